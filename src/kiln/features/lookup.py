"""Online lookups: the latest value of each requested feature per entity, and its age."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from kiln.exceptions import InvalidArgumentError
from kiln.features.definitions import FeatureRef, parse_refs
from kiln.features.online.codec import decode_values, encode_keys

if TYPE_CHECKING:
    import pandas as pd

    from kiln.features.online.base import OnlineStore
    from kiln.features.registry import RegisteredView


_DUMPS = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


@dataclass(frozen=True)
class OnlineFeatures:
    """Result of an online lookup, column-wise, one entry per entity row.

    ``values[name][i]`` is the feature's value for row ``i`` (``None`` when the
    entity has no value, or it is older than the view's ttl); ``age_seconds[name][i]``
    is how old that value is (now minus its event time).
    """

    entities: dict[str, list[Any]]
    values: dict[str, list[Any]]
    age_seconds: dict[str, list[float | None]]

    def to_dict(self) -> dict[str, list[Any]]:
        """Join keys and feature values, column-wise (as Feast's ``to_dict``)."""
        return {**self.entities, **self.values}

    def to_df(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (NaN becomes null)."""
        return {
            "entities": self.entities,
            # v != v only for NaN, which JSON cannot carry
            "features": {k: [None if v != v else v for v in col]
                         for k, col in self.values.items()},
            "age_seconds": self.age_seconds,
        }

    def to_json_bytes(self) -> bytes:
        """:meth:`to_json` encoded (compact); NaN-free results skip the NaN scan."""
        try:
            text = _DUMPS({"entities": self.entities, "features": self.values,
                           "age_seconds": self.age_seconds})
        except ValueError:  # a NaN somewhere
            text = _DUMPS(self.to_json())
        return text.encode()


@dataclass(frozen=True)
class _Group:
    """The features one request wants from one view, and their output names."""

    view: str
    pin: int | None
    features: tuple[str, ...]
    names: tuple[str, ...]


@lru_cache(maxsize=1024)
def _plan(features: tuple[str, ...], full_feature_names: bool) -> tuple[_Group, ...]:
    """Requested features grouped by view, parsed and named once per distinct request."""
    groups: dict[tuple[str, int | None], list[FeatureRef]] = {}
    for ref in parse_refs(list(features)):
        groups.setdefault((ref.view, ref.version), []).append(ref)
    seen: dict[str, FeatureRef] = {}
    out = []
    for (view, pin), refs in groups.items():
        names = []
        for ref in refs:
            name = f"{view}__{ref.feature}" if full_feature_names else ref.feature
            if name in seen:
                raise InvalidArgumentError(
                    f"feature {ref} and {seen[name]} share the name {name!r}; pass "
                    "full_feature_names=True"
                )
            seen[name] = ref
            names.append(name)
        out.append(_Group(view, pin, tuple(r.feature for r in refs), tuple(names)))
    return tuple(out)


def entity_columns(entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
                   ) -> tuple[dict[str, list[Any]], int]:
    """Entity rows as columns: from a list of dicts or a dict of lists."""
    if isinstance(entity_rows, Mapping):
        columns = {str(k): list(v) if not isinstance(v, str | int | float) else [v]
                   for k, v in entity_rows.items()}
        sizes = {len(v) for v in columns.values()}
        if len(sizes) > 1:
            raise InvalidArgumentError(
                f"entity columns have different lengths {sorted(sizes)}; give one value per "
                "row in each column"
            )
        return columns, sizes.pop() if sizes else 0
    rows = list(entity_rows)
    if not all(isinstance(r, Mapping) for r in rows):
        raise InvalidArgumentError(
            "entity_rows must be a list of {join_key: value} dicts or a {join_key: [values]} "
            "dict"
        )
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return {n: [r.get(n) for r in rows] for n in names}, len(rows)


class ViewResolver(Protocol):
    """Looks up registered views for the online path (the features client's cache)."""

    def lookup_view(self, name: str, version: int | None) -> RegisteredView: ...
    def feature_positions(self, name: str, version: int) -> dict[str, int]: ...


def lookup(
    resolver: ViewResolver,
    store: OnlineStore,
    entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    features: Sequence[str],
    *,
    full_feature_names: bool = False,
) -> OnlineFeatures:
    """Read ``features`` for ``entity_rows`` from ``store``; see :class:`OnlineFeatures`."""
    plan = _plan(tuple([features] if isinstance(features, str) else features),
                 full_feature_names)
    columns, n = entity_columns(entity_rows)
    now_ms = time.time_ns() // 1_000_000
    values: dict[str, list[Any]] = {}
    ages: dict[str, list[float | None]] = {}
    used_keys: dict[str, list[Any]] = {}
    for group in plan:
        rv = resolver.lookup_view(group.view, group.pin)
        view = rv.view
        known = resolver.feature_positions(group.view, rv.version)
        for feature in group.features:
            if feature not in known:
                view.feature(feature)  # raises NotFoundError naming the view's features
        key_cols = []
        for key in view.join_keys:
            col = columns.get(key)
            if col is None:
                raise InvalidArgumentError(
                    f"entity rows have no {key!r} (join key of feature view {group.view!r}); "
                    f"given: {', '.join(columns) or 'nothing'}"
                )
            key_cols.append(col)
            used_keys[key] = col
        rows = store.read(group.view, encode_keys(key_cols))
        present = [i for i, r in enumerate(rows) if r is not None]
        decoded = decode_values([rows[i][1] for i in present])  # type: ignore[index]
        ttl = view.ttl_ms
        cols: list[list[Any]] = [[None] * n for _ in group.features]
        age: list[float | None] = [None] * n
        selectors: dict[int, list[tuple[list[Any], int]]] = {}
        for i, (version, vals) in zip(present, decoded, strict=True):
            ts = rows[i][0]  # type: ignore[index]
            if ttl is not None and now_ms - ts > ttl:
                continue
            age[i] = (now_ms - ts) / 1000.0
            pick = selectors.get(version)
            if pick is None:
                positions = resolver.feature_positions(group.view, version)
                pick = [(c, positions[f]) for c, f in zip(cols, group.features, strict=True)
                        if f in positions]
                selectors[version] = pick
            for c, p in pick:
                c[i] = vals[p]
        for c, name in zip(cols, group.names, strict=True):
            values[name] = c
            ages[name] = age
    return OnlineFeatures(used_keys, values, ages)
