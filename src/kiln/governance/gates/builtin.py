"""The built-in promotion gates: metric, fairness, explainability, latency, signature, approval."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from kiln.exceptions import ConfigError
from kiln.governance.gates.base import (
    CheckResult,
    ConfiguredGate,
    DatasetSpec,
    GateContext,
    Param,
)
from kiln.governance.metrics import metric_spec

if TYPE_CHECKING:
    from kiln.entities import ModelVersion

_NUM = (int, float)


def _fmt(value: float) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True)
class MetricGate(ConfiguredGate):
    """``metric`` on ``dataset`` at least ``min`` / at most ``max``, and no worse than the
    version the alias points at now by more than ``max_regression``."""

    metric: str
    dataset: str
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None
    type: ClassVar[str] = "metric"
    params: ClassVar[tuple[Param, ...]] = (
        Param("metric", str, required=True, check=metric_spec),
        Param("dataset", str, required=True, dataset=True),
        Param("min", _NUM), Param("max", _NUM), Param("max_regression", _NUM))
    one_of: ClassVar[tuple[str, ...]] = ("min", "max", "max_regression")
    subject: ClassVar[str | None] = "metric"

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
class FairnessGate(ConfiguredGate):
    """For ``attribute`` on ``dataset``: demographic parity difference and equalized odds
    difference at most the given bounds."""

    attribute: str
    dataset: str
    demographic_parity_difference: float | None = None
    equalized_odds_difference: float | None = None
    type: ClassVar[str] = "fairness"
    params: ClassVar[tuple[Param, ...]] = (
        Param("attribute", str, required=True), Param("dataset", str, required=True,
                                                      dataset=True),
        Param("demographic_parity_difference", _NUM), Param("equalized_odds_difference", _NUM))
    one_of: ClassVar[tuple[str, ...]] = ("demographic_parity_difference",
                                         "equalized_odds_difference")
    subject: ClassVar[str | None] = "attribute"

    def validated(self, datasets: Mapping[str, DatasetSpec], where: str) -> None:
        if self.attribute not in datasets[self.dataset].sensitive:  # evaluate per slice
            datasets[self.dataset].sensitive.append(self.attribute)

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
class ExplainabilityGate(ConfiguredGate):
    """Global feature importance (permutation importance) is stored with the version;
    with ``dataset`` it is computed there first when missing."""

    dataset: str | None = None
    type: ClassVar[str] = "explainability"
    params: ClassVar[tuple[Param, ...]] = (Param("dataset", str, dataset=True),)

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
class LatencyGate(ConfiguredGate):
    """p99 of ``predict`` on the version's input example, over ``runs`` calls, at most
    ``p99_ms`` milliseconds."""

    p99_ms: float
    runs: int = 100
    type: ClassVar[str] = "latency"
    params: ClassVar[tuple[Param, ...]] = (Param("p99_ms", _NUM, required=True),
                                           Param("runs", int, default=100))

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
class SignatureGate(ConfiguredGate):
    """No input column of the version at the alias is removed or retyped, unless
    ``allow_breaking`` is true."""

    allow_breaking: bool = False
    type: ClassVar[str] = "signature"
    params: ClassVar[tuple[Param, ...]] = (Param("allow_breaking", bool, default=False),)

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
class ApprovalGate(ConfiguredGate):
    """An approval of this version by ``role`` is recorded (``kiln models approve``)."""

    role: str
    type: ClassVar[str] = "approval"
    params: ClassVar[tuple[Param, ...]] = (Param("role", str, required=True),)

    def check(self, ctx: GateContext) -> list[CheckResult]:
        from kiln.governance.approvals import approvals

        found = [a for a in approvals(ctx.ws, ctx.candidate.name, ctx.candidate.version)
                 if a.role == self.role]
        figure = f"by {found[-1].actor}" if found else "none"
        return [CheckResult(f"approval by {self.role}", figure, "recorded", bool(found))]


@dataclass(frozen=True)
class DataValidationGate(ConfiguredGate):
    """Each dataset version the candidate was trained on (lineage) has a stored validation
    report (``kiln data validate NAME@VERSION``) without error-level anomalies, and with
    at most ``max_warnings`` warnings when that is given. No recorded training data, or a
    version never validated, fails."""

    max_warnings: int | None = None
    type: ClassVar[str] = "data_validation"
    params: ClassVar[tuple[Param, ...]] = (Param("max_warnings", int),)

    def check(self, ctx: GateContext) -> list[CheckResult]:
        from kiln.data.validations import stored_validations
        from kiln.governance.training import training_datasets

        wanted = "0 errors" + ("" if self.max_warnings is None
                               else f", <= {self.max_warnings} warnings")
        refs = training_datasets(ctx.ws, ctx.candidate)
        if not refs:
            return [CheckResult("data validation of training data",
                                "no training dataset recorded in lineage", wanted, False)]
        out = []
        for ref in refs:
            reports = stored_validations(ctx.ws, ref)
            if not reports:
                out.append(CheckResult(f"data validation of {ref}", "none run", wanted, False))
                continue
            latest = reports[0]
            passed = latest.ok and (self.max_warnings is None
                                    or latest.warnings <= self.max_warnings)
            against = f" against {latest.against}" if latest.against else ""
            out.append(CheckResult(f"data validation of {ref}{against}",
                                   f"{latest.errors} errors, {latest.warnings} warnings",
                                   wanted, passed))
        return out
