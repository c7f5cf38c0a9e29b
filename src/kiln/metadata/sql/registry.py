"""Registered models, versions, aliases (with history) and lineage edges in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kiln.entities import AliasEvent, LineageEdge, ModelVersion, RegisteredModel, Signature
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase
from kiln.metadata.sql.audit import append_audit

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class SqlRegistry(SqlBase):
    """The registry and lineage parts of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def create_model_version(
        self,
        name: str,
        *,
        run_id: str | None,
        flavor: str,
        artifact: str,
        signature: Signature | None,
        user: str,
        created_at: int,
        description: str = "",
    ) -> ModelVersion:
        mv = t.model_versions
        for _attempt in range(10):
            try:
                with self._write() as conn:
                    stmt = self._insert(t.registered_models).values(
                        name=name, created_at=created_at, description=""
                    )
                    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
                    version = self._next_version(conn, t.registered_models, mv, name)
                    conn.execute(
                        mv.insert().values(
                            name=name,
                            version=version,
                            run_id=run_id,
                            flavor=flavor,
                            artifact=artifact,
                            signature=json.dumps(signature.to_dict()) if signature else None,
                            created_at=created_at,
                            user=user,
                            description=description,
                        )
                    )
                    append_audit(
                        conn, actor=user, action="model_version.register",
                        object_kind="model_version", object_id=f"{name}/{version}",
                        before=None,
                        after={"run_id": run_id, "flavor": flavor, "artifact": artifact,
                               "signature": signature.to_dict() if signature else None,
                               "description": description},
                        timestamp=created_at,
                    )
            except IntegrityError:
                continue  # another writer took this version number (PostgreSQL); take the next
            return ModelVersion(
                name, version, run_id, flavor, artifact, signature, created_at, user, description
            )
        raise ConflictError(f"could not register a version of model {name!r}: too many writers")

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        mv = t.model_versions
        with self._read() as conn:
            row = conn.execute(select(mv).where(mv.c.name == name, mv.c.version == version)).first()
            if row is None:
                self._require_model(conn, name)
                versions = self._versions(conn, name)
                raise NotFoundError(
                    f"model {name!r} has no version {version}; versions: "
                    f"{_span(versions)}"
                )
            aliases = self._aliases(conn, name)
        return _version(row, aliases)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        mv = t.model_versions
        with self._read() as conn:
            rows = conn.execute(select(mv).where(mv.c.name == name).order_by(mv.c.version)).all()
            if not rows:
                self._require_model(conn, name)
            aliases = self._aliases(conn, name)
        return [_version(r, aliases) for r in rows]

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._read() as conn:
            row = self._require_model(conn, name)
            return self._registered(conn, row)

    def list_registered_models(self) -> list[RegisteredModel]:
        rm = t.registered_models
        with self._read() as conn:
            rows = conn.execute(select(rm).order_by(rm.c.name)).all()
            return [self._registered(conn, r) for r in rows]

    def set_alias(self, name: str, alias: str, version: int, user: str, timestamp: int) -> None:
        a = t.model_aliases
        with self._write() as conn:
            mv = t.model_versions
            exists = conn.execute(
                select(mv.c.version).where(mv.c.name == name, mv.c.version == version)
            ).first()
            if exists is None:
                self._require_model(conn, name)
                raise NotFoundError(
                    f"model {name!r} has no version {version}; versions: "
                    f"{_span(self._versions(conn, name))}"
                )
            previous = conn.execute(
                select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if previous == version:
                return
            stmt = self._insert(a).values(name=name, alias=alias, version=version)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name", "alias"], set_={"version": stmt.excluded.version}
                )
            )
            conn.execute(
                t.alias_events.insert().values(
                    name=name,
                    alias=alias,
                    from_version=previous,
                    to_version=version,
                    user=user,
                    timestamp=timestamp,
                )
            )
            append_audit(conn, actor=user, action="alias.set", object_kind="model",
                         object_id=name, before={"alias": alias, "version": previous},
                         after={"alias": alias, "version": version}, timestamp=timestamp)

    def delete_alias(self, name: str, alias: str, user: str, timestamp: int) -> None:
        a = t.model_aliases
        with self._write() as conn:
            previous = conn.execute(
                select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if previous is None:
                self._missing_alias(conn, name, alias)
            conn.execute(delete(a).where(a.c.name == name, a.c.alias == alias))
            conn.execute(
                t.alias_events.insert().values(
                    name=name,
                    alias=alias,
                    from_version=previous,
                    to_version=None,
                    user=user,
                    timestamp=timestamp,
                )
            )
            append_audit(conn, actor=user, action="alias.delete", object_kind="model",
                         object_id=name, before={"alias": alias, "version": previous},
                         after=None, timestamp=timestamp)

    def get_alias(self, name: str, alias: str) -> int:
        a = t.model_aliases
        with self._read() as conn:
            version = conn.execute(
                select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if version is None:
                self._missing_alias(conn, name, alias)
        return int(version)  # type: ignore[arg-type]  # None raised above

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        e = t.alias_events
        stmt = select(e).where(e.c.name == name)
        if alias is not None:
            stmt = stmt.where(e.c.alias == alias)
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(e.c.id)).all()
        return [
            AliasEvent(r.name, r.alias, r.from_version, r.to_version, r.user, r.timestamp)
            for r in rows
        ]

    # -- lineage ----------------------------------------------------------------------
    def add_edges(self, edges: Sequence[LineageEdge]) -> None:
        if not edges:
            return
        with self._write() as conn:
            conn.execute(
                t.lineage_edges.insert(),
                [
                    {
                        "src_kind": e.src_kind,
                        "src_id": e.src_id,
                        "dst_kind": e.dst_kind,
                        "dst_id": e.dst_id,
                        "relation": e.relation,
                        "created_at": e.created_at,
                    }
                    for e in edges
                ],
            )

    def edges_from(self, kind: str, object_id: str) -> list[LineageEdge]:
        le = t.lineage_edges
        return self._edges(select(le).where(le.c.src_kind == kind, le.c.src_id == object_id))

    def edges_to(self, kind: str, object_id: str) -> list[LineageEdge]:
        le = t.lineage_edges
        return self._edges(select(le).where(le.c.dst_kind == kind, le.c.dst_id == object_id))

    # -- helpers ----------------------------------------------------------------------
    def _edges(self, stmt: Any) -> list[LineageEdge]:
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(t.lineage_edges.c.id)).all()
        return [
            LineageEdge(r.src_kind, r.src_id, r.dst_kind, r.dst_id, r.relation, r.created_at)
            for r in rows
        ]

    def _require_model(self, conn: Connection, name: str) -> Any:
        rm = t.registered_models
        row = conn.execute(select(rm).where(rm.c.name == name)).first()
        if row is None:
            names = conn.execute(select(rm.c.name).order_by(rm.c.name).limit(10)).scalars().all()
            known = ", ".join(repr(n) for n in names) or "none yet"
            raise NotFoundError(f"model {name!r} is not registered; models: {known}")
        return row

    def _missing_alias(self, conn: Connection, name: str, alias: str) -> None:
        self._require_model(conn, name)
        known = ", ".join(repr(a) for a in sorted(self._aliases(conn, name))) or "none"
        raise NotFoundError(f"model {name!r} has no alias {alias!r}; aliases: {known}")

    def _versions(self, conn: Connection, name: str) -> list[int]:
        mv = t.model_versions
        return list(
            conn.execute(select(mv.c.version).where(mv.c.name == name).order_by(mv.c.version))
            .scalars()
            .all()
        )

    def _aliases(self, conn: Connection, name: str) -> dict[str, int]:
        a = t.model_aliases
        rows = conn.execute(select(a.c.alias, a.c.version).where(a.c.name == name))
        return {r.alias: r.version for r in rows}

    def _registered(self, conn: Connection, row: Any) -> RegisteredModel:
        mv = t.model_versions
        latest = conn.execute(select(func.max(mv.c.version)).where(mv.c.name == row.name)).scalar()
        return RegisteredModel(
            row.name, row.created_at, row.description, latest or 0, self._aliases(conn, row.name)
        )


def _version(row: Any, aliases: dict[str, int]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        run_id=row.run_id,
        flavor=row.flavor,
        artifact=row.artifact,
        signature=Signature.from_dict(json.loads(row.signature)) if row.signature else None,
        created_at=row.created_at,
        user=row.user,
        description=row.description,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == row.version)),
    )


def _span(versions: list[int]) -> str:
    if not versions:
        return "none"
    if versions == list(range(versions[0], versions[-1] + 1)) and len(versions) > 2:
        return f"{versions[0]}..{versions[-1]}"
    return ", ".join(map(str, versions))
