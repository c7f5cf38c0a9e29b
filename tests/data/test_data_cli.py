"""``kiln data`` run as a user runs it: a subprocess in a project folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _kiln(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


def _frame(seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    return pd.DataFrame({"amount": rng.normal(100 + shift, 10, n),
                         "plan": rng.choice(["free", "pro"], n)})


def test_version_a_folder_pull_it_back_and_check_status(tmp_path: Path) -> None:
    data = tmp_path / "images"
    for i in range(40):
        (data / f"c{i % 4}").mkdir(parents=True, exist_ok=True)
        (data / f"c{i % 4}" / f"{i}.png").write_bytes(os.urandom(64))
    out = _kiln(tmp_path, "data", "add", "images", "--name", "imgs")
    assert out.returncode == 0, out.stderr
    assert "added imgs@1: 40 files" in out.stdout
    assert (tmp_path / "images.kiln").exists()
    assert "up to date with imgs@1" in _kiln(tmp_path, "data", "status").stdout
    (data / "c0" / "0.png").write_bytes(b"changed")
    status = json.loads(_kiln(tmp_path, "data", "status", "images", "--json").stdout)
    assert status[0]["modified"] == ["c0/0.png"] and not status[0]["clean"]
    assert _kiln(tmp_path, "data", "add", "images", "--name", "imgs").returncode == 0
    diff = json.loads(_kiln(tmp_path, "data", "diff", "imgs@1", "imgs@2", "--json").stdout)
    assert diff["files"] == {"added": [], "removed": [], "changed": ["c0/0.png"]}
    shutil.rmtree(data)
    pulled = _kiln(tmp_path, "data", "pull")
    assert pulled.returncode == 0 and "40 files written" in pulled.stdout
    assert (data / "c0" / "0.png").read_bytes() == b"changed"
    (data / "c1" / "stray.png").write_bytes(b"not in the version")
    (data / "c0" / "0.png").write_bytes(b"edited again")
    pulled = _kiln(tmp_path, "data", "pull")
    assert "removed c1/stray.png" in pulled.stdout
    assert "1 files written, 1 removed" in pulled.stdout
    assert not (data / "c1" / "stray.png").exists()
    assert (data / "c0" / "0.png").read_bytes() == b"changed"
    got = _kiln(tmp_path, "data", "get", "imgs@1", "-o", "v1")
    assert got.returncode == 0
    assert (tmp_path / "v1" / "c0" / "0.png").read_bytes() != b"changed"
    (tmp_path / "v1" / "c3" / "extra.png").write_bytes(b"extra")
    got = _kiln(tmp_path, "data", "get", "imgs@2", "-o", "v1")
    assert "removed c3/extra.png" in got.stdout
    assert (tmp_path / "v1" / "c0" / "0.png").read_bytes() == b"changed"
    assert _kiln(tmp_path, "data", "get", "imgs@2").returncode == 0  # default: ./imgs
    assert len(list((tmp_path / "imgs").rglob("*.png"))) == 40
    versions = json.loads(_kiln(tmp_path, "data", "versions", "imgs", "--json").stdout)
    assert [v["version"] for v in versions] == [1, 2]
    assert all(v["file_count"] == 40 for v in versions)


def test_many_small_files_are_packed_and_pulled_back(tmp_path: Path) -> None:
    from kiln.data.snapshot import _PACK_MIN

    data = tmp_path / "shards"
    files = {f"s{i % 7}/{i}.bin": os.urandom(1000) for i in range(3 * _PACK_MIN)}
    for rel, body in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(body)
    out = _kiln(tmp_path, "data", "add", "shards", "--name", "shards")
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / ".kiln" / "artifacts" / "packs").glob("*.idx"))
    shutil.rmtree(data)
    pulled = _kiln(tmp_path, "data", "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert f"{len(files)} files written" in pulled.stdout
    assert {p.relative_to(data).as_posix(): p.read_bytes() for p in data.rglob("*")
            if p.is_file()} == files
    assert "up to date with shards@1" in _kiln(tmp_path, "data", "status").stdout


def test_validate_fails_a_bad_batch_and_writes_an_html_report(tmp_path: Path) -> None:
    path = tmp_path / "batch.parquet"
    _frame(0).to_parquet(path)
    assert _kiln(tmp_path, "data", "add", "batch.parquet", "--name", "b").returncode == 0
    _frame(1).to_parquet(path)
    assert _kiln(tmp_path, "data", "add", "batch.parquet", "--name", "b").returncode == 0
    good = _kiln(tmp_path, "data", "validate", "b@2", "--against", "b@1")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "passed: 0 errors" in good.stdout
    bad = _frame(2, shift=30)
    bad.loc[:3, "plan"] = "enterprise"
    bad.to_parquet(path)
    _kiln(tmp_path, "data", "add", "batch.parquet", "--name", "b")
    failed = _kiln(tmp_path, "data", "validate", "b@3", "--against", "b@1", "--html", "r.html")
    assert failed.returncode == 1
    assert "unseen_category" in failed.stdout and "FAILED" in failed.stdout
    page = (tmp_path / "r.html").read_text()
    assert "<svg" in page and "enterprise" in page and "<script" not in page
    report = json.loads(_kiln(tmp_path, "data", "validate", "b@3", "--against", "b@1",
                              "--json", "--no-html").stdout)
    kinds = {(a["kind"], a["column"]) for a in report["anomalies"]}
    assert {("unseen_category", "plan"), ("out_of_range", "amount"), ("drift", "amount")} <= kinds
    # The schema is editable YAML: widen the range and accept the new plan.
    schema = _kiln(tmp_path, "data", "schema", "b@1").stdout
    assert "kind: kiln.schema/v1" in schema
    edited = schema.replace("- pro", "- pro\n  - enterprise")
    lines = [ln if not ln.strip().startswith("max:") else "  max: 1000" for ln in
             edited.splitlines()]
    (tmp_path / "schema.yaml").write_text("\n".join(lines) + "\n")
    relaxed = _kiln(tmp_path, "data", "validate", "b@3", "--schema", "schema.yaml", "--no-html")
    assert relaxed.returncode == 0, relaxed.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert _kiln(tmp_path, "data", "add", "x.csv").returncode == 0
    for args, expected in [
        (("data", "versions", "nope"), "error: dataset 'nope' does not exist; datasets: 'x.csv'"),
        (("data", "get", "x.csv@7"), "error: dataset 'x.csv' has no version 7; versions: 1"),
        (("data", "diff", "x.csv@1", "x.csv@one"), "is not valid; accepted: NAME, NAME@"),
        (("data", "add", "missing"), "error: data path 'missing' does not exist"),
        (("data", "validate", "x.csv"), "give --against NAME@VERSION or --schema FILE"),
    ]:
        out = _kiln(tmp_path, *args)
        assert out.returncode == 2 and expected in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    (tmp_path / "x.csv.kiln").write_text("kind: kiln.data/v1\nname: x\n")
    out = _kiln(tmp_path, "data", "pull")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "x.csv.kiln' is corrupted (no 'version')" \
        in out.stderr
