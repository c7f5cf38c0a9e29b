"""The search space of a sweep: parameters as float or int ranges or categorical choices.

The format (``space.yaml``; the same mapping works as a dict in Python)::

    lr:        {type: float, low: 1.0e-4, high: 0.1, log: true}
    dropout:   {type: float, low: 0.0, high: 0.5, step: 0.1}
    layers:    {type: int, low: 1, high: 4}            # step defaults to 1
    width:     {type: int, low: 16, high: 256, log: true}
    optimizer: {type: categorical, choices: [sgd, adam]}
    act: [relu, tanh]                                  # shorthand for categorical

``low`` and ``high`` are both included. ``log`` and ``step`` exclude each other;
``log`` needs ``low > 0``. Anything else is refused with one line naming it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

TYPES = ("float", "int", "categorical")
_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
MAX_GRID = 100_000


def load_space(source: str | Path | Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Optuna distributions for a space given as a mapping or a YAML file's path."""
    where = "space"
    if isinstance(source, str | Path):
        where = str(source)
        raw = _read_yaml(Path(source))
    else:
        raw = source
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidArgumentError(
            f"{where}: a space is a non-empty mapping of parameter name to "
            "{type: float|int|categorical, ...}")
    return {str(name): _distribution(where, str(name), spec) for name, spec in raw.items()}


def space_to_json(space: Mapping[str, BaseDistribution]) -> dict[str, str]:
    from optuna.distributions import distribution_to_json

    return {k: distribution_to_json(v) for k, v in space.items()}


def space_from_json(data: Mapping[str, str]) -> dict[str, BaseDistribution]:
    from optuna.distributions import json_to_distribution

    return {k: json_to_distribution(v) for k, v in data.items()}


def grid_values(space: Mapping[str, BaseDistribution]) -> dict[str, list[Any]]:
    """Every value of each parameter, for the grid sampler (floats need a ``step``)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    grid: dict[str, list[Any]] = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            grid[name] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            grid[name] = list(range(dist.low, dist.high + 1, dist.step))
        elif isinstance(dist, FloatDistribution) and dist.step is not None:
            n = round((dist.high - dist.low) / dist.step)
            grid[name] = [round(dist.low + i * dist.step, 12) for i in range(n + 1)]
        else:
            raise InvalidArgumentError(
                f"sampler 'grid' cannot enumerate parameter {name!r} ({_describe(dist)}); "
                "give it a step (and no log) or choices")
    size = math.prod(len(v) for v in grid.values())
    if size > MAX_GRID:
        raise InvalidArgumentError(f"the grid has {size} points; sampler 'grid' takes at most "
                                   f"{MAX_GRID}: use 'tpe' or 'random'")
    return grid


def _describe(dist: BaseDistribution) -> str:
    return type(dist).__name__.replace("Distribution", "").lower()


def _read_yaml(path: Path) -> Any:
    import yaml

    if not path.is_file():
        raise InvalidArgumentError(f"space file {str(path)!r} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(
            f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None


def _distribution(where: str, name: str, spec: Any) -> BaseDistribution:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(spec, list):
        spec = {"type": "categorical", "choices": spec}
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} is {spec!r}; give a mapping such as "
            "{type: float, low: 0.0, high: 1.0} or a list of choices")
    kind = spec.get("type")
    if kind not in TYPES:
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} has type {kind!r}; accepted: {', '.join(TYPES)}")
    unknown = sorted(set(map(str, spec)) - _KEYS[kind])
    if unknown:
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} has unknown key {unknown[0]!r}; accepted for "
            f"{kind}: {', '.join(sorted(_KEYS[kind]))}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise InvalidArgumentError(
                f"{where}: parameter {name!r} needs a non-empty list of choices")
        for c in choices:
            if not (c is None or isinstance(c, bool | int | float | str)):
                raise InvalidArgumentError(
                    f"{where}: choice {c!r} of parameter {name!r} is not accepted; choices "
                    "are strings, numbers, booleans or null")
        return CategoricalDistribution(choices)
    low, high = (_number(where, name, key, spec.get(key), kind) for key in ("low", "high"))
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise InvalidArgumentError(f"{where}: parameter {name!r} has log={log!r}; use true "
                                   "or false")
    step = spec.get("step")
    if low > high:
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} has low={low!r} above high={high!r}")
    if log and low <= 0:
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} has log: true with low={low!r}; log ranges need "
            "low > 0")
    if step is not None:
        step = _number(where, name, "step", step, kind)
        if step <= 0:
            raise InvalidArgumentError(
                f"{where}: parameter {name!r} has step={step!r}; steps are positive")
        if log:
            raise InvalidArgumentError(
                f"{where}: parameter {name!r} has both log and step; use one of them")
    if kind == "int":
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    return FloatDistribution(float(low), float(high), log=log, step=step)


def _number(where: str, name: str, key: str, value: Any, kind: str) -> Any:
    if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
        with contextlib.suppress(ValueError):
            value = float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    ok = (isinstance(value, int) if kind == "int" else isinstance(value, int | float)) \
        and not isinstance(value, bool)
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        need = "an integer" if kind == "int" else "a number"
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} has {key}={value!r}; {kind} parameters need {need} "
            f"for {key}")
    return value
