"""Translate a :class:`~kiln.metadata.base.RunQuery` into one SQL query over indexed tables.

Each ``metrics.``/``params.``/``tags.`` clause joins that table once on
``(run_id, key)`` and filters its value; each ordering key joins it with an
outer join. The query returns run ids only; the store loads the page after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, not_, select

from kiln.metadata import schema as t

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.sql.elements import ColumnElement

    from kiln.metadata.base import RunQuery
    from kiln.metadata.filters import Clause

_TABLES = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}


def build_search(query: RunQuery) -> Select[Any]:
    """A ``SELECT run_id`` honouring the query's filter, order and page."""
    r = t.runs
    source: Any = r
    where: list[ColumnElement[bool]] = []
    exp_ids = list(query.experiment_ids) if query.experiment_ids is not None else None
    if exp_ids is not None:
        where.append(r.c.experiment_id.in_(exp_ids))
    if query.parent_run_id is not None:
        where.append(r.c.parent_run_id == query.parent_run_id)
    for i, clause in enumerate(query.clauses):
        if clause.kind == "attribute":
            where.append(_compare(r.c[clause.key], clause))
            continue
        alias = _TABLES[clause.kind].alias(f"f{i}")
        on = [alias.c.run_id == r.c.run_id, alias.c.key == clause.key]
        if exp_ids is not None:
            on.append(alias.c.experiment_id.in_(exp_ids))
        source = source.join(alias, and_(*on))
        where.append(_compare(alias.c.value, clause))
    order: list[Any] = []
    for i, key in enumerate(query.order_by):
        if key.kind == "attribute":
            col: Any = r.c[key.key]
        else:
            alias = _TABLES[key.kind].alias(f"o{i}")
            source = source.outerjoin(
                alias, and_(alias.c.run_id == r.c.run_id, alias.c.key == key.key)
            )
            col = alias.c.value
        # Runs without the value sort last whatever the direction, as in MLflow.
        order.append(case((col.is_(None), 1), else_=0))
        order.append(col.desc() if key.descending else col.asc())
    order += [r.c.start_time.desc(), r.c.run_id]
    return (
        select(r.c.run_id)
        .select_from(source)
        .where(*where)
        .order_by(*order)
        .limit(query.max_results)
        .offset(query.offset)
    )


def _compare(col: Any, clause: Clause) -> ColumnElement[bool]:
    op, value = clause.op, clause.value
    if clause.kind == "attribute" and clause.key == "status":
        value = (
            tuple(str(v).upper() for v in value)
            if isinstance(value, tuple)
            else str(value).upper()
        )
    if op == "=":
        return col == value  # type: ignore[no-any-return]
    if op == "!=":
        return col != value  # type: ignore[no-any-return]
    if op == "<":
        return col < value  # type: ignore[no-any-return]
    if op == "<=":
        return col <= value  # type: ignore[no-any-return]
    if op == ">":
        return col > value  # type: ignore[no-any-return]
    if op == ">=":
        return col >= value  # type: ignore[no-any-return]
    if op == "LIKE":
        return col.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return col.ilike(value)  # type: ignore[no-any-return]
    if op == "IN":
        return col.in_(value)  # type: ignore[no-any-return]
    if op == "NOT IN":
        return not_(col.in_(value))  # type: ignore[no-any-return]
    raise AssertionError(f"operator {op!r} passed the parser")
