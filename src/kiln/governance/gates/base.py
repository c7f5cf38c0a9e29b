"""The promotion gate interface: a gate is built from its policy entry and checks a candidate.

A gate is one small class: ``from_config`` validates its policy entry (so a bad
policy fails before anything is evaluated) and ``check`` returns one
:class:`CheckResult` per figure it judges. Gates read what they need through the
:class:`GateContext`, which evaluates each (version, dataset) pair once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from kiln.exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import ModelVersion
    from kiln.governance.evaluate import Evaluation
    from kiln.workspace import Workspace


@dataclass(frozen=True)
class CheckResult:
    """One judged figure: ``check`` names it, ``figure`` and ``threshold`` are for people."""

    check: str
    figure: str
    threshold: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "figure": self.figure, "threshold": self.threshold,
                "passed": self.passed}


@dataclass
class DatasetSpec:
    """A named evaluation dataset of a policy: a DataFrame, CSV/Parquet path or callable."""

    name: str
    source: Any
    label: str
    sensitive: list[str] = field(default_factory=list)


class Gate(Protocol):
    """A promotion check. ``type`` is its name in a policy's ``checks`` list."""

    type: ClassVar[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> Gate: ...

    def check(self, ctx: GateContext) -> list[CheckResult]: ...


class GateContext:
    """What gates read: the candidate, the version the alias points at now (``baseline``),
    and evaluations computed on demand, once per (version, dataset)."""

    def __init__(
        self,
        ws: Workspace,
        candidate: ModelVersion,
        baseline: ModelVersion | None,
        alias: str,
        datasets: Mapping[str, DatasetSpec],
        base: Path | None = None,
    ) -> None:
        self.ws = ws
        self.candidate = candidate
        self.baseline = baseline
        self.alias = alias
        self.datasets = datasets
        self.base = base
        self._frames: dict[str, pd.DataFrame] = {}
        self._evaluations: dict[tuple[int, str], Evaluation] = {}

    def frame(self, dataset: str) -> pd.DataFrame:
        """The dataset's rows, loaded once."""
        from kiln.governance.datasets import load_frame

        if dataset not in self._frames:
            self._frames[dataset] = load_frame(self.datasets[dataset].source, self.base)
        return self._frames[dataset]

    def evaluation(self, mv: ModelVersion, dataset: str) -> Evaluation:
        """``mv`` evaluated (and stored) on ``dataset``, with importances for the candidate."""
        from kiln.governance.evaluate import evaluate

        key = (mv.version, dataset)
        if key not in self._evaluations:
            spec = self.datasets[dataset]
            self._evaluations[key] = evaluate(
                self.ws, mv, self.frame(dataset), label=spec.label, sensitive=spec.sensitive,
                dataset=dataset, importance=mv.version == self.candidate.version,
            )
        return self._evaluations[key]


@dataclass(frozen=True)
class Param:
    """One key of a gate's policy entry: its type, whether it must be given, its default,
    and whether its value names one of the policy's datasets."""

    key: str
    kind: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    dataset: bool = False
    check: Callable[[Any], object] | None = None  # raises for a bad value


class ConfiguredGate:
    """Builds a gate from its policy entry by its declared :class:`Param` list: unknown
    keys, missing keys, wrong types and unknown datasets are refused in one line each.

    A gate declares ``params`` (in the order of its constructor's fields), optionally
    ``one_of`` (at least one of those keys must be given) and ``subject`` (the key whose
    value names the check in messages), and may override :meth:`validated` for checks
    that need more than a type."""

    type: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    one_of: ClassVar[tuple[str, ...]] = ()
    subject: ClassVar[str | None] = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> Any:
        where = f"{cls.type} check"
        check_keys(config, {p.key for p in cls.params}, where)
        if cls.subject is not None:
            subject = next(p for p in cls.params if p.key == cls.subject)
            where = f"{where} {require(config, subject.key, subject.kind, where)!r}"
        values: dict[str, Any] = {}
        for p in cls.params:
            value = (require(config, p.key, p.kind, where) if p.required
                     else typed(config, p.key, p.kind, where, p.default))
            if p.check is not None and value is not None:
                try:
                    p.check(value)
                except Exception as exc:
                    raise ConfigError(f"{where}: {exc}") from None
            if p.dataset and value is not None:
                value = check_dataset(value, datasets, where)
            if p.kind in (float, (int, float)) and isinstance(value, int):
                value = float(value)
            values[p.key] = value
        if cls.one_of and all(values[k] is None for k in cls.one_of):
            raise ConfigError(f"{where} needs one of {', '.join(cls.one_of)}")
        gate = cls(**values)
        gate.validated(datasets, where)
        return gate

    def validated(self, datasets: Mapping[str, DatasetSpec], where: str) -> None:
        """Checks beyond types (a known metric name, say); raise ConfigError."""


def require(config: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str
            ) -> Any:
    """``config[key]`` of type ``kind``, or one line saying what is missing."""
    if key not in config:
        raise ConfigError(f"{where} needs {key!r}")
    return typed(config, key, kind, where)


def typed(config: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
          default: Any = None) -> Any:
    """``config[key]`` (or ``default``) checked against ``kind``."""
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{where}: {key} = {value!r} is not a number")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}: {key} = {value!r} is not accepted; give a {names}")
    return value


def check_dataset(name: Any, datasets: Mapping[str, DatasetSpec], where: str) -> str:
    """``name`` if the policy defines that dataset, else one line listing those it defines."""
    if name not in datasets:
        known = ", ".join(repr(d) for d in sorted(datasets)) or "none defined"
        raise ConfigError(f"{where}: unknown dataset {name!r}; the policy's datasets: {known}")
    return str(name)


def check_keys(config: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Reject keys a gate does not read (a typo would otherwise silently weaken a policy)."""
    unknown = sorted(set(config) - allowed - {"type"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; accepted: "
                          f"{', '.join(sorted(allowed))}")
