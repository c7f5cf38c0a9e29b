"""What a run records about where it ran: git state, Python, packages, host and user.

Gathered once per process (and per working directory for git), so starting a
run stays cheap.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

KEY_PACKAGES = (
    "kiln",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "xgboost",
    "lightgbm",
    "torch",
    "onnx",
)


@functools.lru_cache(maxsize=16)
def _git_state(cwd: str) -> tuple[str, str] | None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return commit.stdout.strip(), "true" if status.stdout.strip() else "false"


@functools.lru_cache(maxsize=1)
def _packages() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return json.dumps(found, sort_keys=True)


def run_context_tags(user: str) -> dict[str, str]:
    """The ``kiln.*`` tags every run gets when it starts (a fresh dict each call)."""
    return dict(_context_tags(user, os.getcwd()))


@functools.lru_cache(maxsize=16)
def _context_tags(user: str, cwd: str) -> tuple[tuple[str, str], ...]:
    tags = {
        "kiln.user": user,
        "kiln.host": socket.gethostname(),
        "kiln.python": platform.python_version(),
        "kiln.platform": sys.platform,
        "kiln.packages": _packages(),
        "kiln.source": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "<interactive>",
    }
    git = _git_state(cwd)
    if git is not None:
        tags["kiln.git.commit"], tags["kiln.git.dirty"] = git
    return tuple(tags.items())
