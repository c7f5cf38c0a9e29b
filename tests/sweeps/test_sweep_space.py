"""The search space format: what it accepts and the one line it gives for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from kiln.exceptions import InvalidArgumentError
from kiln.sweeps.space import grid_values, load_space, space_from_json, space_to_json


def test_yaml_space_gives_optuna_distributions(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(
        "lr: {type: float, low: 1e-4, high: 0.1, log: true}\n"
        "dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}\n"
        "layers: {type: int, low: 1, high: 4}\n"
        "opt: {type: categorical, choices: [sgd, adam]}\n"
        "act: [relu, tanh]\n")
    space = load_space(path)
    assert space["lr"] == FloatDistribution(1e-4, 0.1, log=True)
    assert space["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
    assert space["layers"] == IntDistribution(1, 4)
    assert space["opt"] == CategoricalDistribution(["sgd", "adam"])
    assert space["act"] == CategoricalDistribution(["relu", "tanh"])
    assert space_from_json(space_to_json(space)) == space


@pytest.mark.parametrize(("spec", "message"), [
    ({"lr": {"type": "float", "low": 0, "hig": 1}}, "unknown key 'hig'; accepted for float"),
    ({"lr": {"type": "float", "low": 2, "high": 1}}, "low=2 above high=1"),
    ({"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, "log ranges need low > 0"),
    ({"lr": {"type": "double", "low": 0, "high": 1}}, "type 'double'; accepted: float, int"),
    ({"n": {"type": "int", "low": 0.5, "high": 3}}, "int parameters need an integer for low"),
    ({"n": {"type": "int", "low": 1, "high": 3, "step": 0}}, "steps are positive"),
    ({"n": {"type": "int", "low": 1, "high": 8, "step": 2, "log": True}}, "both log and step"),
    ({"lr": {"type": "float", "low": "a", "high": 1}}, "need a number for low"),
    ({"c": {"type": "categorical", "choices": []}}, "non-empty list of choices"),
    ({"c": {"type": "categorical", "choices": [[1]]}}, "choice [1] of parameter 'c'"),
    ({"c": 3}, "parameter 'c' is 3"),
    ({}, "non-empty mapping"),
])
def test_bad_spaces_fail_with_one_line(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        load_space(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        load_space(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("x: [1, 2\n")
    with pytest.raises(InvalidArgumentError, match="not valid YAML"):
        load_space(tmp_path / "bad.yaml")


def test_grid_enumerates_steps_and_refuses_continuous_ranges() -> None:
    grid = grid_values(load_space({"a": {"type": "float", "low": 0, "high": 0.3, "step": 0.1},
                                   "b": {"type": "int", "low": 1, "high": 3}, "c": ["x"]}))
    assert grid == {"a": [0.0, 0.1, 0.2, 0.3], "b": [1, 2, 3], "c": ["x"]}
    with pytest.raises(InvalidArgumentError, match="cannot enumerate parameter 'lr'"):
        grid_values(load_space({"lr": {"type": "float", "low": 0, "high": 1}}))
