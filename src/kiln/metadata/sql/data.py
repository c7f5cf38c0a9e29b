"""Datasets and their numbered versions in SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import DatasetVersion
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class SqlData(SqlBase):
    """The data-versions part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def create_dataset_version(
        self,
        name: str,
        *,
        tree: str,
        kind: str,
        size: int,
        file_count: int,
        rows: int | None,
        schema: Mapping[str, Any] | None,
        user: str,
        created_at: int,
        git_commit: str | None,
        source: str,
        description: str = "",
    ) -> DatasetVersion:
        dv = t.dataset_versions
        for _attempt in range(10):
            try:
                with self._write() as conn:
                    stmt = self._insert(t.datasets).values(name=name, created_at=created_at)
                    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
                    version = self._next_version(conn, t.datasets, dv, name)
                    conn.execute(
                        dv.insert().values(
                            name=name,
                            version=version,
                            tree=tree,
                            kind=kind,
                            size=size,
                            file_count=file_count,
                            rows=rows,
                            schema=json.dumps(dict(schema)) if schema is not None else None,
                            user=user,
                            created_at=created_at,
                            git_commit=git_commit,
                            source=source,
                            description=description,
                        )
                    )
            except IntegrityError:
                continue  # another writer took this number (PostgreSQL); take the next
            return DatasetVersion(
                name, version, tree, kind, size, file_count, rows,
                dict(schema) if schema is not None else None,
                user, created_at, git_commit, source, description,
            )
        raise ConflictError(f"could not add a version of dataset {name!r}: too many writers")

    def get_dataset_version(self, name: str, version: int) -> DatasetVersion:
        dv = t.dataset_versions
        with self._read() as conn:
            row = conn.execute(select(dv).where(dv.c.name == name, dv.c.version == version)).first()
            if row is None:
                versions = self._dataset_versions(conn, name)
                shown = ", ".join(map(str, versions[-20:]))
                raise NotFoundError(
                    f"dataset {name!r} has no version {version}; versions: {shown}"
                )
        return _dataset_version(row)

    def latest_dataset_version(self, name: str) -> DatasetVersion:
        dv = t.dataset_versions
        with self._read() as conn:
            row = conn.execute(
                select(dv).where(dv.c.name == name).order_by(dv.c.version.desc()).limit(1)
            ).first()
            if row is None:
                self._require_dataset(conn, name)
                raise NotFoundError(f"dataset {name!r} has no versions")
        return _dataset_version(row)

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        dv = t.dataset_versions
        with self._read() as conn:
            rows = conn.execute(select(dv).where(dv.c.name == name).order_by(dv.c.version)).all()
            if not rows:
                self._require_dataset(conn, name)
        return [_dataset_version(r) for r in rows]

    def list_datasets(self) -> list[str]:
        ds = t.datasets
        with self._read() as conn:
            return list(conn.execute(select(ds.c.name).order_by(ds.c.name)).scalars().all())

    def set_dataset_schema(self, name: str, version: int, schema: Mapping[str, Any]) -> None:
        dv = t.dataset_versions
        with self._write() as conn:
            done = conn.execute(
                update(dv)
                .where(dv.c.name == name, dv.c.version == version)
                .values(schema=json.dumps(dict(schema)))
            ).rowcount
            if not done:
                self._dataset_versions(conn, name)
                raise NotFoundError(f"dataset {name!r} has no version {version}")

    # -- helpers ----------------------------------------------------------------------
    def _require_dataset(self, conn: Connection, name: str) -> None:
        ds = t.datasets
        if conn.execute(select(ds.c.name).where(ds.c.name == name)).first() is None:
            names = conn.execute(select(ds.c.name).order_by(ds.c.name).limit(10)).scalars().all()
            known = ", ".join(repr(n) for n in names) or "none yet"
            raise NotFoundError(f"dataset {name!r} does not exist; datasets: {known}")

    def _dataset_versions(self, conn: Connection, name: str) -> list[int]:
        self._require_dataset(conn, name)
        dv = t.dataset_versions
        return list(
            conn.execute(select(dv.c.version).where(dv.c.name == name).order_by(dv.c.version))
            .scalars()
            .all()
        )


def _dataset_version(row: Any) -> DatasetVersion:
    return DatasetVersion(
        name=row.name,
        version=row.version,
        tree=row.tree,
        kind=row.kind,
        size=row.size,
        file_count=row.file_count,
        rows=row.rows,
        schema=json.loads(row.schema) if row.schema else None,
        user=row.user,
        created_at=row.created_at,
        git_commit=row.git_commit,
        source=row.source,
        description=row.description,
    )
