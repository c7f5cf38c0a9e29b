"""The built-in promotion gates: metric, fairness, explainability, latency, signature, approval."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.exceptions import ConfigError
from kiln.governance.gates.base import (
    CheckResult,
    DatasetSpec,
    GateContext,
    check_dataset,
    check_keys,
    require,
    typed,
)
from kiln.governance.metrics import metric_spec

if TYPE_CHECKING:
    from kiln.entities import ModelVersion

_NUM = (int, float)


def _fmt(value: float) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True)
class MetricGate:
    """``metric`` on ``dataset`` at least ``min`` / at most ``max``, and no worse than the
    version the alias points at now by more than ``max_regression``."""

    metric: str
    dataset: str
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None
    type: ClassVar[str] = "metric"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> MetricGate:
        where = "metric check"
        check_keys(config, {"metric", "dataset", "min", "max", "max_regression"}, where)
        metric = require(config, "metric", str, where)
        try:
            metric_spec(metric)
        except Exception as exc:
            raise ConfigError(f"{where}: {exc}") from None
        where = f"metric check {metric!r}"
        gate = cls(metric, check_dataset(require(config, "dataset", str, where), datasets, where),
                   typed(config, "min", _NUM, where), typed(config, "max", _NUM, where),
                   typed(config, "max_regression", _NUM, where))
        if gate.min is None and gate.max is None and gate.max_regression is None:
            raise ConfigError(f"{where} needs one of min, max, max_regression")
        return gate

    def check(self, ctx: GateContext) -> list[CheckResult]:
        spec = metric_spec(self.metric)
        ev = ctx.evaluation(ctx.candidate, self.dataset)
        if self.metric not in ev.metrics:
            computed = ", ".join(sorted(ev.metrics))
            raise ConfigError(f"metric {self.metric!r} cannot be computed for {ev.task} model "
                              f"{ev.model} v{ev.version} on {self.dataset!r}; computed: "
                              f"{computed}")
        value = ev.metrics[self.metric]
        name = f"{self.metric} on {self.dataset}"
        out = []
        if self.min is not None:
            out.append(CheckResult(name, _fmt(value), f">= {self.min}", value >= self.min))
        if self.max is not None:
            out.append(CheckResult(name, _fmt(value), f"<= {self.max}", value <= self.max))
        if self.max_regression is not None:
            out.append(self._relative(ctx, value, spec.higher_is_better))
        return out

    def _relative(self, ctx: GateContext, value: float, higher: bool) -> CheckResult:
        name = f"{self.metric} on {self.dataset} vs @{ctx.alias}"
        base = ctx.baseline
        if base is None:
            return CheckResult(name, _fmt(value), f"no version at @{ctx.alias} yet", True)
        if base.version == ctx.candidate.version:
            return CheckResult(name, _fmt(value), f"is @{ctx.alias} already", True)
        allowed = self.max_regression or 0.0
        ref = ctx.evaluation(base, self.dataset).metrics[self.metric]
        delta = value - ref if higher else ref - value
        sign = ">=" if higher else "<="
        bound = ref - allowed if higher else ref + allowed
        return CheckResult(
            name, f"{_fmt(value)} (v{base.version}: {_fmt(ref)}, {delta:+.4f})",
            f"{sign} {_fmt(bound)} (v{base.version} {'-' if higher else '+'} "
            f"{allowed})",
            delta >= -allowed - 1e-12,
        )


@dataclass(frozen=True)
class FairnessGate:
    """For ``attribute`` on ``dataset``: demographic parity difference and equalized odds
    difference at most the given bounds."""

    attribute: str
    dataset: str
    demographic_parity_difference: float | None = None
    equalized_odds_difference: float | None = None
    type: ClassVar[str] = "fairness"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> FairnessGate:
        where = "fairness check"
        check_keys(config, {"attribute", "dataset", "demographic_parity_difference",
                            "equalized_odds_difference"}, where)
        attribute = require(config, "attribute", str, where)
        where = f"fairness check on {attribute!r}"
        dataset = check_dataset(require(config, "dataset", str, where), datasets, where)
        gate = cls(attribute, dataset,
                   typed(config, "demographic_parity_difference", _NUM, where),
                   typed(config, "equalized_odds_difference", _NUM, where))
        if gate.demographic_parity_difference is None and gate.equalized_odds_difference is None:
            raise ConfigError(f"{where} needs demographic_parity_difference or "
                              "equalized_odds_difference")
        if attribute not in datasets[dataset].sensitive:
            datasets[dataset].sensitive.append(attribute)
        return gate

    def check(self, ctx: GateContext) -> list[CheckResult]:
        ev = ctx.evaluation(ctx.candidate, self.dataset)
        figures = ev.fairness.get(self.attribute)
        if figures is None:
            raise ConfigError(f"fairness of {self.attribute!r} needs a classification model; "
                              f"{ev.model} v{ev.version} is a {ev.task} model")
        out = []
        for key, bound in (("demographic_parity_difference", self.demographic_parity_difference),
                           ("equalized_odds_difference", self.equalized_odds_difference)):
            if bound is not None:
                value = float(figures[key])
                out.append(CheckResult(f"{key} ({self.attribute}) on {self.dataset}",
                                       _fmt(value), f"<= {bound}", value <= bound))
        return out


@dataclass(frozen=True)
class ExplainabilityGate:
    """Global feature importance (permutation importance) is stored with the version;
    with ``dataset`` it is computed there first when missing."""

    dataset: str | None = None
    type: ClassVar[str] = "explainability"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> ExplainabilityGate:
        where = "explainability check"
        check_keys(config, {"dataset"}, where)
        dataset = typed(config, "dataset", str, where)
        return cls(check_dataset(dataset, datasets, where) if dataset is not None else None)

    def check(self, ctx: GateContext) -> list[CheckResult]:
        from kiln.governance.evaluate import stored_evaluations

        mv = ctx.candidate
        if self.dataset is not None:
            ctx.evaluation(mv, self.dataset)
        stored = [e for e in stored_evaluations(ctx.ws, mv.name, mv.version) if e.importance]
        if not stored:
            return [CheckResult("feature importance stored", "none", "present", False)]
        top = next(iter(stored[0].importance))
        return [CheckResult("feature importance stored",
                            f"{len(stored[0].importance)} features (top: {top})", "present",
                            True)]


@dataclass(frozen=True)
class LatencyGate:
    """p99 of ``predict`` on the version's input example, over ``runs`` calls, at most
    ``p99_ms`` milliseconds."""

    p99_ms: float
    runs: int = 100
    type: ClassVar[str] = "latency"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> LatencyGate:
        where = "latency check"
        check_keys(config, {"p99_ms", "runs"}, where)
        return cls(float(require(config, "p99_ms", _NUM, where)),
                   int(typed(config, "runs", int, where, 100)))

    def check(self, ctx: GateContext) -> list[CheckResult]:
        from kiln.governance.inspect import input_example, predict_p99_ms

        example = input_example(ctx.ws, ctx.candidate)
        if example is None:
            return [CheckResult("p99 predict latency", "no input example logged",
                                f"<= {self.p99_ms} ms", False)]
        loaded = ctx.ws.load_model(f"models:/{ctx.candidate.name}/{ctx.candidate.version}")
        p99 = predict_p99_ms(loaded, example, self.runs)
        return [CheckResult(f"p99 predict latency ({len(example)} rows)", f"{p99:.2f} ms",
                            f"<= {self.p99_ms} ms", p99 <= self.p99_ms)]


@dataclass(frozen=True)
class SignatureGate:
    """No input column of the version at the alias is removed or retyped, unless
    ``allow_breaking`` is true."""

    allow_breaking: bool = False
    type: ClassVar[str] = "signature"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> SignatureGate:
        where = "signature check"
        check_keys(config, {"allow_breaking"}, where)
        return cls(bool(typed(config, "allow_breaking", bool, where, False)))

    def check(self, ctx: GateContext) -> list[CheckResult]:
        name = f"signature vs @{ctx.alias}"
        if ctx.baseline is None:
            return [CheckResult(name, f"no version at @{ctx.alias} yet", "compatible", True)]
        problems = signature_breaks(ctx.baseline, ctx.candidate)
        figure = "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "") or "compatible"
        threshold = "compatible" + (" (breaking allowed)" if self.allow_breaking else "")
        return [CheckResult(name, figure, threshold, not problems or self.allow_breaking)]


def signature_breaks(old: ModelVersion, new: ModelVersion) -> list[str]:
    """Input columns of ``old`` that ``new`` removed or retyped."""
    if old.signature is None:
        return []
    if new.signature is None:
        return ["the new version has no signature"]
    now = {c.get("name"): c.get("type") for c in new.signature.inputs}
    out = []
    for col in old.signature.inputs:
        name = col.get("name")
        if name not in now:
            out.append(f"removed {name}")
        elif now[name] != col.get("type"):
            out.append(f"{name}: {col.get('type')} -> {now[name]}")
    return out


@dataclass(frozen=True)
class ApprovalGate:
    """An approval of this version by ``role`` is recorded (``kiln models approve``)."""

    role: str
    type: ClassVar[str] = "approval"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
                    ) -> ApprovalGate:
        where = "approval check"
        check_keys(config, {"role"}, where)
        return cls(require(config, "role", str, where))

    def check(self, ctx: GateContext) -> list[CheckResult]:
        from kiln.governance.approvals import approvals

        found = [a for a in approvals(ctx.ws, ctx.candidate.name, ctx.candidate.version)
                 if a.role == self.role]
        figure = f"by {found[-1].actor}" if found else "none"
        return [CheckResult(f"approval by {self.role}", figure, "recorded", bool(found))]
