"""Peer virtual environments for kiln's benchmarks.

Peers (MLflow, ...) are installed from PyPI into their own virtualenvs under
``${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/<peer>/venv`` so that they never mix
with kiln's own environment.  The install happens once; a marker file records
the requirement set that was installed, so later runs reuse the venv.

The peer-side benchmark scripts live next to this file (``mlflow_tracking.py``);
they run with the peer's python, never with kiln's.

Usage::

    python -m peers mlflow          # (from bench/) install if needed, print the python path
    python bench/peers mlflow --force
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

PEERS: dict[str, list[str]] = {
    "mlflow": ["mlflow==3.17.*", "scikit-learn"],
    "dvc": ["dvc==3.67.*"],
    "gx": ["great_expectations==1.24.*", "pandas", "pyarrow"],
    "feast": ["feast==0.67.*", "pandas", "pyarrow", "redis"],
    "dagster": ["dagster", "numpy", "scikit-learn"],
    "zenml": ["zenml[server]", "numpy", "scikit-learn"],
    "prefect": ["prefect", "numpy", "scikit-learn"],
    "metaflow": ["metaflow", "numpy", "scikit-learn"],
    # evidently 0.7.23 fails to import with pandas 3
    "evidently": ["evidently==0.7.23", "pandas<3", "scikit-learn", "pyarrow"],
}

MARKER = ".kiln-bench-installed.json"


def script(name: str) -> Path:
    """Path of a peer-side benchmark script in this folder."""
    return HERE / name


def peers_root() -> Path:
    root = os.environ.get("KILN_BENCH_PEERS") or os.path.join(
        os.path.expanduser("~"), ".cache", "kiln-bench"
    )
    return Path(root)


def peer_dir(peer: str) -> Path:
    return peers_root() / peer


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":  # pragma: no cover
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def is_installed(peer: str) -> bool:
    venv = peer_dir(peer) / "venv"
    marker = venv / MARKER
    if not marker.is_file() or not _venv_python(venv).exists():
        return False
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return data.get("requirements") == PEERS[peer]


def ensure_peer(peer: str = "mlflow", *, force: bool = False, quiet: bool = False) -> Path:
    """Create the peer's venv if needed and return the path of its python."""
    if peer not in PEERS:
        raise KeyError(f"unknown peer {peer!r}; known: {sorted(PEERS)}")
    venv = peer_dir(peer) / "venv"
    py = _venv_python(venv)
    if not force and is_installed(peer):
        return py

    def log(msg: str) -> None:
        if not quiet:
            print(f"[peers] {msg}", file=sys.stderr, flush=True)

    venv.parent.mkdir(parents=True, exist_ok=True)
    if force or not py.exists():
        log(f"creating venv {venv}")
        # use the system python3 (not kiln's .venv) as the base interpreter
        base = os.environ.get("KILN_BENCH_BASE_PYTHON", "python3")
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    reqs = PEERS[peer]
    log(f"pip install {' '.join(reqs)} (this takes a few minutes the first time)")
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check"]
    out = None if not quiet else subprocess.DEVNULL
    subprocess.run([*pip, "--upgrade", "pip"], check=True, stdout=out)
    subprocess.run([*pip, *reqs], check=True, stdout=out)
    versions = subprocess.run(
        [str(py), "-m", "pip", "freeze", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    (venv / MARKER).write_text(json.dumps({"requirements": reqs, "freeze": versions}, indent=1))
    log(f"installed {peer} peer: {py}")
    return py


def peer_versions(peer: str) -> dict[str, str]:
    """Installed package versions of a peer venv (from the marker file)."""
    marker = peer_dir(peer) / "venv" / MARKER
    try:
        freeze = json.loads(marker.read_text()).get("freeze", [])
    except (OSError, ValueError):
        return {}
    out = {}
    for line in freeze:
        if "==" in line:
            name, ver = line.split("==", 1)
            out[name.lower()] = ver
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("peer", nargs="?", default="mlflow", choices=sorted(PEERS))
    ap.add_argument("--force", action="store_true", help="recreate the venv")
    args = ap.parse_args()
    print(ensure_peer(args.peer, force=args.force))
