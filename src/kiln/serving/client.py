"""Deployments and the prediction log on an explicit Workspace (the ``ServingClient`` mixin)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.core import WorkspaceCore
from kiln.entities import CanaryPolicy, Deployment, DeploymentSpec, Feedback, Route
from kiln.exceptions import InvalidArgumentError
from kiln.serving.spec import (
    build_spec,
    check_deployment_name,
    check_spec,
    parse_weights,
    with_weights,
)

if TYPE_CHECKING:
    import pandas as pd

    from kiln.serving.batch import BatchResult

TimeLike = int | float | datetime | None


class ServingClient(WorkspaceCore):
    """Deployments (versioned, with history), the prediction log and feedback.

    >>> import kiln
    >>> ws = kiln.Workspace.ephemeral()
    >>> _ = ws.log_model(None, lambda df: df["x"] * 2, "double")
    >>> ws.set_alias("double", "production", 1)
    >>> ws.create_deployment("dbl", ["double@production:100"]).version
    1
    >>> ws.close()
    """

    def create_deployment(
        self,
        name: str,
        routes: Iterable[str | Route],
        shadows: Iterable[str | Route] = (),
        *,
        sticky_key: str | None = None,
        canary: CanaryPolicy | None = None,
        message: str = "",
    ) -> Deployment:
        """Create deployment ``name`` serving ``routes`` (``MODEL@ALIAS:WEIGHT``), with
        ``shadows`` receiving a copy of the traffic. Every route must resolve now."""
        spec = build_spec(routes, shadows, sticky_key=sticky_key, canary=canary)
        self._check_targets(spec)
        return self.store.add_deployment_version(
            check_deployment_name(name), spec, action="create", user=self.user,
            created_at=now_ms(), message=message, create=True,
        )

    def get_deployment(self, name: str, version: int | None = None) -> Deployment:
        """The current version of deployment ``name`` (or the given ``version``)."""
        return self.store.get_deployment(check_deployment_name(name), version)

    def list_deployments(self) -> list[Deployment]:
        """Every deployment at its current version."""
        return self.store.list_deployments()

    def deployment_history(self, name: str) -> list[Deployment]:
        """Every version of the deployment, oldest first: who changed what, when."""
        return self.store.deployment_history(check_deployment_name(name))

    def set_weights(
        self, name: str, weights: Mapping[str, float] | Iterable[str], message: str = ""
    ) -> Deployment:
        """New weights for routes, e.g. ``{"churn@production": 50, "churn@challenger": 50}``
        or ``["churn@production:50", ...]``; written as a new deployment version."""
        parsed = dict(weights) if isinstance(weights, Mapping) else parse_weights(weights)
        current = self.get_deployment(name)
        return self.update_deployment(name, with_weights(current.spec, parsed), "set-weights",
                                      message, expected_version=current.version)

    def update_deployment(
        self, name: str, spec: DeploymentSpec, action: str = "update", message: str = "",
        *, expected_version: int | None = None,
    ) -> Deployment:
        """Write ``spec`` as the deployment's next version. With ``expected_version`` the
        change applies only on top of that version (``ConflictError`` otherwise), so a
        change computed from a version somebody else has replaced is never written."""
        check_spec(spec)
        self._check_targets(spec)
        return self.store.add_deployment_version(
            check_deployment_name(name), spec, action=action, user=self.user,
            created_at=now_ms(), message=message, expected_version=expected_version,
        )

    def rollback_deployment(
        self, name: str, to_version: int | None = None, message: str = ""
    ) -> Deployment:
        """Serve again what version ``to_version`` served (default: the one before the
        current); the rollback is itself a new version in the history."""
        current = self.get_deployment(name)
        target = current.version - 1 if to_version is None else int(to_version)
        if target < 1 or target >= current.version:
            raise InvalidArgumentError(
                f"cannot roll deployment {name!r} back to version {target}; versions "
                f"1..{current.version - 1} are earlier than the current {current.version}"
                if current.version > 1 else
                f"deployment {name!r} has only version 1; there is nothing to roll back to"
            )
        old = self.get_deployment(name, target)
        return self.store.add_deployment_version(
            name, old.spec, action="rollback", user=self.user, created_at=now_ms(),
            message=message or f"rollback to version {target}",
            expected_version=current.version,
        )

    def _check_targets(self, spec: DeploymentSpec) -> None:
        for route in (*spec.routes, *spec.shadows):
            self.resolve_route(route)

    def resolve_route(self, route: Route) -> int:
        """The model version a route points at now."""
        if route.alias is not None:
            return self.store.get_alias(route.model, route.alias)
        assert route.version is not None
        return self.store.get_model_version(route.model, route.version).version

    # -- prediction log and feedback ----------------------------------------------------
    def read_prediction_log(
        self, deployment: str, start: TimeLike = None, end: TimeLike = None
    ) -> pd.DataFrame:
        """Logged requests of ``deployment`` between ``start`` and ``end`` (ms since the
        epoch or datetimes), one row per request and route (shadows included)."""
        from kiln.serving.predlog import read_log

        return read_log(self.store, self.artifacts, check_deployment_name(deployment),
                        _ms(start), _ms(end))

    def log_feedback(self, deployment: str, labels: Mapping[str, Any] | Sequence[Feedback]
                     ) -> int:
        """Store ground truth: ``{request_id: label}`` or Feedback records. Returns the count."""
        ts = now_ms()
        items = (
            [Feedback(str(k), deployment, v, ts) for k, v in labels.items()]
            if isinstance(labels, Mapping) else list(labels)
        )
        self.store.add_feedback(items)
        return len(items)

    def read_feedback(
        self, deployment: str, start: TimeLike = None, end: TimeLike = None
    ) -> pd.DataFrame:
        """Feedback of ``deployment`` as a DataFrame (request_id, label, timestamp)."""
        import pandas as pd

        rows = self.store.get_feedback(deployment, _ms(start), _ms(end))
        return pd.DataFrame(
            {"request_id": [f.request_id for f in rows], "label": [f.label for f in rows],
             "timestamp": [f.timestamp for f in rows]}
        )

    # -- batch and packaging ------------------------------------------------------------
    def batch_predict(
        self,
        model_uri: str,
        input_path: str | Path,
        output_path: str | Path,
        *,
        chunk_size: int = 250_000,
        progress: bool = False,
    ) -> BatchResult:
        """Score a Parquet file chunk by chunk into ``output_path`` (bounded memory);
        lineage links the model version and the input to the output."""
        from kiln.serving.batch import batch_predict

        return batch_predict(self, model_uri, Path(input_path), Path(output_path),
                             chunk_size=chunk_size, progress=progress)

    def package_deployment(self, name: str, output_dir: str | Path, *, port: int = 8080,
                           replicas: int = 2, image: str | None = None) -> list[Path]:
        """Write a container build context and Kubernetes manifests for the deployment."""
        from kiln.serving.package import package_deployment

        return package_deployment(self, name, Path(output_dir), port=port, replicas=replicas,
                                  image=image)


def _ms(value: TimeLike) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, int | float):
        return int(value)
    raise InvalidArgumentError(
        f"time {value!r} is not accepted; give ms since the epoch or a datetime"
    )
