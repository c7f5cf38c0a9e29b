"""Feature-store definitions (versioned, deduplicated by digest) and materialization state."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiln.entities import FeatureDefinition, Materialization
from kiln.exceptions import ConflictError, InvalidArgumentError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from kiln.metadata.base import DefinitionSpec

KINDS = ("entity", "feature_view")


def spec_digest(spec: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``spec`` (sorted keys, no spaces)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SqlFeatures(SqlBase):
    """The feature-registry part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def apply_feature_definitions(
        self, definitions: Sequence[DefinitionSpec], user: str, created_at: int
    ) -> list[FeatureDefinition]:
        seen: set[tuple[str, str]] = set()
        for d in definitions:
            _check_kind(d.kind)
            if (d.kind, d.name) in seen:
                raise InvalidArgumentError(
                    f"{d.kind} {d.name!r} is defined twice; give each {d.kind} a unique name"
                )
            seen.add((d.kind, d.name))
        fd = t.feature_definitions
        for _attempt in range(10):
            try:
                out: list[FeatureDefinition] = []
                with self._write() as conn:
                    for d in definitions:
                        spec = dict(d.spec)
                        digest = spec_digest(spec)
                        latest = self._latest(conn, d.kind, d.name)
                        if latest is not None and latest.digest == digest:
                            out.append(_definition(latest))
                            continue
                        version = (latest.version if latest is not None else 0) + 1
                        row = {"kind": d.kind, "name": d.name, "version": version,
                               "digest": digest, "spec": json.dumps(spec, sort_keys=True),
                               "created_at": created_at, "user": user}
                        conn.execute(fd.insert().values(**row))
                        out.append(FeatureDefinition(d.kind, d.name, version, digest, spec,
                                                     created_at, user))
            except IntegrityError:
                continue  # a concurrent apply took the version number; retry the whole batch
            return out
        raise ConflictError("could not register feature definitions: too many concurrent writers")

    def get_feature_definition(
        self, kind: str, name: str, version: int | None = None
    ) -> FeatureDefinition:
        _check_kind(kind)
        fd = t.feature_definitions
        with self._read() as conn:
            if version is None:
                row = self._latest(conn, kind, name)
            else:
                row = conn.execute(select(fd).where(
                    fd.c.kind == kind, fd.c.name == name, fd.c.version == version)).first()
            if row is not None:
                return _definition(row)
            names = conn.execute(select(fd.c.name).where(fd.c.kind == kind).distinct()
                                 .order_by(fd.c.name).limit(20)).scalars().all()
            label = kind.replace("_", " ")
            if name not in names:
                known = ", ".join(repr(n) for n in names) or "none yet (run `kiln features apply`)"
                raise NotFoundError(f"{label} {name!r} is not registered; known: {known}")
            versions = conn.execute(select(fd.c.version).where(
                fd.c.kind == kind, fd.c.name == name).order_by(fd.c.version)).scalars().all()
        raise NotFoundError(f"{label} {name!r} has no version {version}; versions: "
                            f"{', '.join(map(str, versions))}")

    def list_feature_definitions(self, kind: str | None = None) -> list[FeatureDefinition]:
        fd = t.feature_definitions
        latest = (select(fd.c.kind, fd.c.name, func.max(fd.c.version).label("version"))
                  .group_by(fd.c.kind, fd.c.name))
        if kind is not None:
            _check_kind(kind)
            latest = latest.where(fd.c.kind == kind)
        sub = latest.subquery()
        stmt = (select(fd).join(sub, (fd.c.kind == sub.c.kind) & (fd.c.name == sub.c.name)
                                & (fd.c.version == sub.c.version))
                .order_by(fd.c.kind, fd.c.name))
        with self._read() as conn:
            return [_definition(r) for r in conn.execute(stmt)]

    def list_feature_definition_versions(self, kind: str, name: str) -> list[FeatureDefinition]:
        _check_kind(kind)
        fd = t.feature_definitions
        with self._read() as conn:
            rows = conn.execute(select(fd).where(fd.c.kind == kind, fd.c.name == name)
                                .order_by(fd.c.version)).all()
        if not rows:
            self.get_feature_definition(kind, name)  # raises NotFoundError naming the known ones
        return [_definition(r) for r in rows]

    def set_materialization(self, state: Materialization) -> None:
        fm = t.feature_materializations
        values = {"view": state.view, "target": state.target,
                  "view_version": state.view_version, "until": state.until,
                  "rows": state.rows, "updated_at": state.updated_at}
        stmt = self._insert(fm).values(**values)
        with self._write() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["view", "target"],
                set_={k: stmt.excluded[k] for k in ("view_version", "until", "rows",
                                                    "updated_at")}))

    def get_materialization(self, view: str, target: str) -> Materialization | None:
        fm = t.feature_materializations
        with self._read() as conn:
            row = conn.execute(select(fm).where(fm.c.view == view, fm.c.target == target)).first()
        if row is None:
            return None
        return Materialization(row.view, row.target, row.view_version, row.until, row.rows,
                               row.updated_at)

    def list_materializations(self, view: str | None = None) -> list[Materialization]:
        fm = t.feature_materializations
        stmt = select(fm).order_by(fm.c.view, fm.c.target)
        if view is not None:
            stmt = stmt.where(fm.c.view == view)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [Materialization(r.view, r.target, r.view_version, r.until, r.rows, r.updated_at)
                for r in rows]

    def _latest(self, conn: Connection, kind: str, name: str) -> Any:
        fd = t.feature_definitions
        stmt = (select(fd).where(fd.c.kind == kind, fd.c.name == name)
                .order_by(fd.c.version.desc()).limit(1))
        return conn.execute(stmt).first()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidArgumentError(f"feature definition kind {kind!r} is not known; "
                                   f"accepted: {', '.join(KINDS)}")


def _definition(row: Any) -> FeatureDefinition:
    return FeatureDefinition(row.kind, row.name, row.version, row.digest, json.loads(row.spec),
                             row.created_at, row.user)
