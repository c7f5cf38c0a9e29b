"""The examples in the monitoring modules' docstrings run and show what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["profile", "drift", "quality", "performance", "abtest"])
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"kiln.monitoring.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
