"""Parsing and checking deployment specs: ``MODEL@ALIAS:WEIGHT`` and ``MODEL/VERSION:WEIGHT``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kiln.entities import CanaryPolicy, DeploymentSpec, Route
from kiln.exceptions import InvalidArgumentError
from kiln.registry.uri import check_alias, check_name, parse_version

ROUTE_FORMS = "MODEL@ALIAS:WEIGHT or MODEL/VERSION:WEIGHT (e.g. churn-clf@production:90)"
STICKY_FORMS = "header:NAME or field:NAME"
DEPLOYMENT_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]{0,254}$")


def check_deployment_name(name: str) -> str:
    if not isinstance(name, str) or not DEPLOYMENT_NAME.match(name):
        raise InvalidArgumentError(
            f"deployment name {name!r} is not accepted; use letters, digits, '_', '-', '.'"
        )
    return name


def parse_route(text: str, *, shadow: bool = False) -> Route:
    """``churn@production:90`` → Route; a shadow takes no weight (``churn@candidate``)."""
    if not isinstance(text, str) or not text:
        raise InvalidArgumentError(f"route {text!r} is not accepted; accepted: {ROUTE_FORMS}")
    body, weight = text, 0.0 if shadow else 100.0
    if ":" in text:
        body, _, wtext = text.rpartition(":")
        if shadow:
            raise InvalidArgumentError(
                f"shadow route {text!r} takes no weight; accepted: MODEL@ALIAS or MODEL/VERSION"
            )
        try:
            weight = float(wtext)
        except ValueError:
            raise InvalidArgumentError(
                f"route {text!r} has weight {wtext!r}, not a number; accepted: {ROUTE_FORMS}"
            ) from None
        if not weight >= 0 or weight == float("inf"):
            raise InvalidArgumentError(f"route {text!r}: the weight must be a number >= 0")
    if "@" in body:
        model, _, alias = body.partition("@")
        return Route(check_name(model), alias=check_alias(alias), weight=weight)
    if "/" in body:
        model, _, version = body.partition("/")
        return Route(check_name(model), version=parse_version(version), weight=weight)
    raise InvalidArgumentError(f"route {text!r} is not accepted; accepted: {ROUTE_FORMS}")


def check_sticky_key(key: str | None) -> str | None:
    if key is None:
        return None
    kind, _, name = key.partition(":")
    if kind not in ("header", "field") or not name:
        raise InvalidArgumentError(f"sticky key {key!r} is not accepted; accepted: {STICKY_FORMS}")
    return f"{kind}:{name.lower() if kind == 'header' else name}"


def build_spec(
    routes: Iterable[str | Route],
    shadows: Iterable[str | Route] = (),
    *,
    sticky_key: str | None = None,
    canary: CanaryPolicy | None = None,
) -> DeploymentSpec:
    """A checked spec: at least one route, targets unique, weights summing to more than 0."""
    parsed = tuple(r if isinstance(r, Route) else parse_route(r) for r in routes)
    shadow = tuple(
        Route(r.model, r.alias, r.version, 0.0) if isinstance(r, Route) else
        parse_route(r, shadow=True) for r in shadows
    )
    spec = DeploymentSpec(parsed, shadow, check_sticky_key(sticky_key), canary)
    check_spec(spec)
    return spec


def check_spec(spec: DeploymentSpec) -> DeploymentSpec:
    if not spec.routes:
        raise InvalidArgumentError(
            f"a deployment needs at least one route; accepted: {ROUTE_FORMS}"
        )
    targets = [r.target for r in (*spec.routes, *spec.shadows)]
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise InvalidArgumentError(f"route {dupes[0]!r} appears twice; name each route once")
    if sum(r.weight for r in spec.routes) <= 0:
        raise InvalidArgumentError("the route weights sum to 0; give at least one a weight > 0")
    if spec.canary is not None and spec.canary.route not in {r.target for r in spec.routes}:
        raise InvalidArgumentError(
            f"canary route {spec.canary.route!r} is not one of the routes: "
            f"{', '.join(r.target for r in spec.routes)}"
        )
    return spec


def with_weights(spec: DeploymentSpec, weights: Mapping[str, float]) -> DeploymentSpec:
    """The spec with new weights for the named routes (others keep theirs)."""
    known = {r.target for r in spec.routes}
    for target, weight in weights.items():
        if target not in known:
            raise InvalidArgumentError(
                f"route {target!r} is not in the deployment; routes: {', '.join(sorted(known))}"
            )
        if not float(weight) >= 0:
            raise InvalidArgumentError(f"route {target!r}: weight {weight!r} must be >= 0")
    routes = tuple(
        Route(r.model, r.alias, r.version, float(weights.get(r.target, r.weight)))
        for r in spec.routes
    )
    return check_spec(DeploymentSpec(routes, spec.shadows, spec.sticky_key, spec.canary))


def parse_weights(items: Iterable[str]) -> dict[str, float]:
    """``["churn@production:50", "churn@challenger:50"]`` → {target: weight}."""
    out: dict[str, float] = {}
    for item in items:
        route = parse_route(item)
        if ":" not in item:
            raise InvalidArgumentError(f"{item!r} names no weight; accepted: {ROUTE_FORMS}")
        out[route.target] = route.weight
    return out
