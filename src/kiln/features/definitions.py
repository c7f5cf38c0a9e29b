"""Feature-store definitions written in Python: entities, features, feature views, sources.

>>> from datetime import timedelta
>>> customer = Entity("customer", join_keys=["customer_id"])
>>> stats = FeatureView(
...     "customer_stats", entities=[customer], source="data/customer_stats.parquet",
...     features=[Feature("avg_spend", "float64"), Feature("orders", "int64")],
...     timestamp_field="event_timestamp", ttl=timedelta(days=30))
>>> stats.join_keys
('customer_id',)

Definitions are plain values: ``kiln features apply MODULE`` registers them
(versioned), and every training set and online lookup is built from the
registered spec, so training and serving cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from kiln.exceptions import InvalidArgumentError

# Declared type -> DuckDB type; training sets and online values are cast to it.
DTYPES: dict[str, str] = {
    "float64": "DOUBLE",
    "float32": "FLOAT",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
_SQL_START = re.compile(r"^\s*(select|with|from|values|\()\b", re.IGNORECASE)


def check_name(name: object, what: str) -> str:
    """``name`` if it is a valid identifier for ``what``, else ``InvalidArgumentError``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(
            f"{what} name {name!r} is not accepted; use letters, digits, '_' and '-', "
            "starting with a letter or '_'"
        )
    return name


@dataclass(frozen=True)
class ParquetSource:
    """A Parquet file, a directory of Parquet files, or a glob (``data/*.parquet``)."""

    path: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", str(self.path))

    def to_spec(self) -> dict[str, Any]:
        return {"type": "parquet", "path": self.path}


@dataclass(frozen=True)
class SqlSource:
    """A DuckDB SQL query, e.g. ``SELECT * FROM read_parquet('events/*.parquet')``."""

    query: str

    def to_spec(self) -> dict[str, Any]:
        return {"type": "sql", "query": self.query}


@dataclass(frozen=True)
class DatasetSource:
    """A dataset version (``"customer_stats@3"``) whose Parquet files are read from the
    artifact store. ``NAME@latest`` is pinned to a version number when applied, so a
    registered view always reads the same data.

    ``files`` (the local paths of the version's Parquet files) is filled in by the
    feature store just before a query; it is not part of the definition.
    """

    ref: str
    files: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not _DATASET_REF.match(self.ref):
            raise InvalidArgumentError(
                f"dataset source {self.ref!r} is not accepted; use 'NAME@VERSION' or "
                "'NAME@latest'"
            )

    def to_spec(self) -> dict[str, Any]:
        return {"type": "dataset", "ref": self.ref}


Source = ParquetSource | SqlSource | DatasetSource
_DATASET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*@(latest|[1-9][0-9]*)$")


def as_source(value: object) -> Source:
    """A source from a value: a source object, a dataset version (``NAME@3`` or a
    ``DatasetVersion``), a path, or a string starting a SQL query."""
    from kiln.entities import DatasetVersion

    if isinstance(value, ParquetSource | SqlSource | DatasetSource):
        return value
    if isinstance(value, DatasetVersion):
        return DatasetSource(value.ref)
    if isinstance(value, Path):
        return ParquetSource(str(value))
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if _SQL_START.match(text):
            return SqlSource(text)
        if _DATASET_REF.match(text) and not Path(text).exists():
            return DatasetSource(text)
        return ParquetSource(value)
    raise InvalidArgumentError(
        f"feature view source {value!r} is not accepted; give a Parquet path (file or "
        "directory), a dataset version ('NAME@3' or a DatasetVersion), a DuckDB SQL query, "
        "ParquetSource(...), DatasetSource(...) or SqlSource(...)"
    )


def source_from_spec(spec: Mapping[str, Any]) -> Source:
    kind = spec.get("type")
    if kind == "parquet":
        return ParquetSource(str(spec["path"]))
    if kind == "sql":
        return SqlSource(str(spec["query"]))
    if kind == "dataset":
        return DatasetSource(str(spec["ref"]))
    raise InvalidArgumentError(
        f"source type {kind!r} is not known; accepted: parquet, sql, dataset"
    )


@dataclass(frozen=True)
class Entity:
    """What features describe (a customer, a driver), identified by its join key columns.

    ``join_keys`` defaults to ``[name]``.
    """

    name: str
    join_keys: Sequence[str] = ()
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "entity")
        keys = tuple(self.join_keys) if self.join_keys else (self.name,)
        if isinstance(self.join_keys, str):
            keys = (self.join_keys,)
        for key in keys:
            check_name(key, f"join key of entity {self.name!r}:")
        object.__setattr__(self, "join_keys", keys)

    def to_spec(self) -> dict[str, Any]:
        return {"join_keys": list(self.join_keys), "description": self.description}

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> Entity:
        return cls(name, join_keys=list(spec["join_keys"]),
                   description=str(spec.get("description", "")))


@dataclass(frozen=True)
class Feature:
    """One feature column and its declared type (one of :data:`DTYPES`)."""

    name: str
    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_name(self.name, "feature")
        if self.dtype not in DTYPES:
            raise InvalidArgumentError(
                f"feature {self.name!r} has type {self.dtype!r}; accepted: {', '.join(DTYPES)}"
            )


@dataclass(frozen=True)
class FeatureView:
    """Features of some entities, read from one source, valid for ``ttl`` after their
    event time (``None``: forever)."""

    name: str
    entities: Sequence[Entity]
    source: Any
    features: Sequence[Feature]
    timestamp_field: str = "event_timestamp"
    ttl: timedelta | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name(self.name, "feature view")
        entities = tuple(self.entities)
        if not entities or not all(isinstance(e, Entity) for e in entities):
            raise InvalidArgumentError(
                f"feature view {self.name!r} needs entities=[Entity(...), ...], "
                f"got {self.entities!r}"
            )
        features = tuple(Feature(f) if isinstance(f, str) else f for f in self.features)
        if not features or not all(isinstance(f, Feature) for f in features):
            raise InvalidArgumentError(
                f"feature view {self.name!r} needs features=[Feature(name, dtype), ...], "
                f"got {self.features!r}"
            )
        check_name(self.timestamp_field, f"timestamp field of {self.name!r}:")
        names = [f.name for f in features]
        reserved = {self.timestamp_field, *(k for e in entities for k in e.join_keys)}
        for n in names:
            if names.count(n) > 1 or n in reserved:
                raise InvalidArgumentError(
                    f"feature {n!r} of view {self.name!r} is declared twice or is a join key "
                    "or the timestamp field; give each feature its own column"
                )
        if self.ttl is not None and (not isinstance(self.ttl, timedelta)
                                     or self.ttl <= timedelta(0)):
            raise InvalidArgumentError(
                f"ttl {self.ttl!r} of feature view {self.name!r} is not accepted; "
                "use a positive datetime.timedelta or None"
            )
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "source", as_source(self.source))
        object.__setattr__(self, "tags", dict(self.tags))

    @property
    def join_keys(self) -> tuple[str, ...]:
        """The join key columns of all the view's entities, in order."""
        return tuple(k for e in self.entities for k in e.join_keys)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def ttl_ms(self) -> int | None:
        return None if self.ttl is None else int(self.ttl.total_seconds() * 1000)

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; ``NotFoundError`` lists the view's features."""
        from kiln.exceptions import NotFoundError

        for f in self.features:
            if f.name == name:
                return f
        raise NotFoundError(f"feature view {self.name!r} has no feature {name!r}; features: "
                            f"{', '.join(self.feature_names)}")

    def to_spec(self) -> dict[str, Any]:
        """The JSON-able definition stored in the metadata store."""
        source = self.source.to_spec()
        if source["type"] == "parquet":
            source["path"] = str(Path(source["path"]).expanduser().absolute())
        return {
            "entities": [{"name": e.name, **e.to_spec()} for e in self.entities],
            "source": source,
            "features": [{"name": f.name, "dtype": f.dtype} for f in self.features],
            "timestamp_field": self.timestamp_field,
            "ttl_seconds": None if self.ttl is None else self.ttl.total_seconds(),
            "description": self.description,
            "tags": dict(self.tags),
        }

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> FeatureView:
        ttl = spec.get("ttl_seconds")
        return cls(
            name,
            entities=[Entity.from_spec(e["name"], e) for e in spec["entities"]],
            source=source_from_spec(spec["source"]),
            features=[Feature(f["name"], f["dtype"]) for f in spec["features"]],
            timestamp_field=str(spec["timestamp_field"]),
            ttl=None if ttl is None else timedelta(seconds=float(ttl)),
            description=str(spec.get("description", "")),
            tags=dict(spec.get("tags", {})),
        )


@dataclass(frozen=True)
class FeatureRef:
    """A parsed ``"view:feature"`` (or ``"view@3:feature"``, pinned to a version)."""

    view: str
    feature: str
    version: int | None = None

    @classmethod
    def parse(cls, ref: object) -> FeatureRef:
        if isinstance(ref, str) and ref.count(":") == 1:
            view, feature = ref.split(":")
            version: int | None = None
            if "@" in view:
                view, _, raw = view.partition("@")
                version = int(raw) if raw.isdigit() and int(raw) > 0 else -1
            if version != -1 and _NAME.match(view) and _NAME.match(feature):
                return cls(view, feature, version)
        raise InvalidArgumentError(
            f"feature reference {ref!r} is not accepted; use 'view:feature' or "
            "'view@VERSION:feature'"
        )

    def __str__(self) -> str:
        pinned = f"@{self.version}" if self.version is not None else ""
        return f"{self.view}{pinned}:{self.feature}"


def parse_refs(features: Sequence[str] | str) -> list[FeatureRef]:
    """Parse a list of feature references; at least one, no duplicates."""
    if isinstance(features, str):
        features = [features]
    refs = [FeatureRef.parse(f) for f in features]
    if not refs:
        raise InvalidArgumentError("features=[] is empty; ask for at least one 'view:feature'")
    return refs
