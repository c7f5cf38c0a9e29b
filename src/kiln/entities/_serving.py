"""Records of serving: deployments (versioned), their routes, prediction-log batches, feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Route:
    """Traffic to one registered model, named by alias (``churn@production``) or version
    (``churn/3``). ``weight`` is the share of traffic (shadows have none)."""

    model: str
    alias: str | None = None
    version: int | None = None
    weight: float = 0.0

    @property
    def target(self) -> str:
        """``MODEL@ALIAS`` or ``MODEL/VERSION``: the route's name in logs and metrics."""
        return f"{self.model}@{self.alias}" if self.alias else f"{self.model}/{self.version}"

    @property
    def uri(self) -> str:
        return f"models:/{self.target}"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "alias": self.alias, "version": self.version,
                "weight": self.weight}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Route:
        return cls(data["model"], data.get("alias"), data.get("version"),
                   float(data.get("weight", 0.0)))


@dataclass(frozen=True, slots=True)
class CanaryPolicy:
    """Roll the canary route back (weight 0) when, over its last ``window`` requests
    (at least ``min_requests``), the error rate exceeds ``max_error_rate`` or the
    95th-percentile latency exceeds ``max_latency_ms``."""

    route: str
    max_error_rate: float = 0.05
    max_latency_ms: float = 250.0
    window: int = 200
    min_requests: int = 20

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "max_error_rate": self.max_error_rate,
                "max_latency_ms": self.max_latency_ms, "window": self.window,
                "min_requests": self.min_requests}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanaryPolicy:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """What a deployment serves: weighted routes, shadow routes, the sticky key
    (``header:NAME`` or ``field:NAME``) and an optional canary policy."""

    routes: tuple[Route, ...]
    shadows: tuple[Route, ...] = ()
    sticky_key: str | None = None
    canary: CanaryPolicy | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "routes": [r.to_dict() for r in self.routes],
            "shadows": [r.to_dict() for r in self.shadows],
            "sticky_key": self.sticky_key,
            "canary": self.canary.to_dict() if self.canary else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentSpec:
        canary = data.get("canary")
        return cls(
            routes=tuple(Route.from_dict(r) for r in data.get("routes", [])),
            shadows=tuple(Route.from_dict(r) for r in data.get("shadows", [])),
            sticky_key=data.get("sticky_key"),
            canary=CanaryPolicy.from_dict(canary) if canary else None,
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    """One version of a deployment. Every change (create, set-weights, rollback,
    auto-rollback) writes a new version: the history says who, when and what."""

    name: str
    version: int
    spec: DeploymentSpec
    action: str
    user: str
    created_at: int
    message: str = ""

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.spec.routes

    @property
    def shadows(self) -> tuple[Route, ...]:
        return self.spec.shadows


@dataclass(frozen=True, slots=True)
class PredictionLogBatch:
    """One Parquet file of logged predictions in the artifact store (``artifact`` is its
    sha256), covering requests from ``start_time`` to ``end_time``."""

    deployment: str
    artifact: str
    rows: int
    start_time: int
    end_time: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Feedback:
    """Ground truth for one logged request; ``label`` is any JSON value."""

    request_id: str
    deployment: str
    label: Any
    timestamp: int
    extra: dict[str, Any] = field(default_factory=dict)
