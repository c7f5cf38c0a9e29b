"""The batched cache lookup: one query for a whole run, and never a stale structural hit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiln.pipelines import pipeline, step
from kiln.pipelines.runner import structural_keys
from kiln.workspace import Workspace


@step
def read(path: str) -> str:
    return Path(path).read_text()


@step(cache=False)
def read_live(path: str) -> str:
    return Path(path).read_text()


@step
def shout(text: str) -> str:
    return text.upper() + "!"


@pipeline
def chain(path: str = "in.txt") -> None:
    shout(shout(read(path)))


@pipeline
def live(path: str = "in.txt") -> None:
    shout(read_live(path))


def _count_lookups(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the store's cache lookups (the calls go through unchanged)."""
    calls = {"one": 0, "many": 0}
    one, many = ws.store.get_cached, ws.store.get_cached_many

    def counted_one(key: str) -> Any:
        calls["one"] += 1
        return one(key)

    def counted_many(keys: Any) -> Any:
        calls["many"] += 1
        return many(keys)

    monkeypatch.setattr(ws.store, "get_cached", counted_one)
    monkeypatch.setattr(ws.store, "get_cached_many", counted_many)
    return calls


def test_a_cached_run_is_one_lookup(ws: Workspace, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.txt"
    src.write_text("hi")
    first = chain.run(workspace=ws, path=str(src)).raise_for_status()
    assert first.output("shout_2") == "HI!!"
    calls = _count_lookups(ws, monkeypatch)
    again = chain.run(workspace=ws, path=str(src)).raise_for_status()
    assert again.cached_steps == ["read", "shout", "shout_2"]
    assert calls == {"one": 0, "many": 1}
    assert len(structural_keys(chain.build(path=str(src)), ["read", "shout", "shout_2"])) == 3


def test_a_step_that_always_runs_sends_its_dependants_to_content_keys(
    ws: Workspace, tmp_path: Path
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("a")
    live.run(workspace=ws, path=str(src)).raise_for_status()
    same = live.run(workspace=ws, path=str(src)).raise_for_status()
    assert same.executed_steps == ["read_live"] and same.cached_steps == ["shout"]
    src.write_text("b")  # the uncached step's output changes: its dependant must re-run
    changed = live.run(workspace=ws, path=str(src)).raise_for_status()
    assert changed.executed_steps == ["read_live", "shout"]
    assert changed.output("shout") == "B!"
    assert structural_keys(live.build(path=str(src)), ["read_live", "shout"]) == {}


def test_a_re_run_upstream_step_is_never_bypassed(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x")
    first = chain.run(workspace=ws, path=str(src)).raise_for_status()
    # the first step's stored output disappears: it must run again, and its dependants
    # are looked up by the content of what it produced, not by structure
    path_of: Any = ws.artifacts.path_of  # type: ignore[attr-defined]
    Path(path_of(first.steps["read"].outputs[0].sha256)).unlink()
    src.write_text("y")  # read is cached by its parameter (the path), not the file
    again = chain.run(workspace=ws, path=str(src)).raise_for_status()
    assert again.executed_steps == ["read", "shout", "shout_2"]
    assert again.output("shout_2") == "Y!!"
