"""Translate a :class:`~kiln.metadata.base.RunQuery` into SQL that the indexes can answer.

- Each ``metrics.``/``params.``/``tags.`` filter clause is a correlated
  ``EXISTS`` on the ``(run_id, key)`` primary key, so a query ordered by start
  time walks ``runs`` in index order and stops at the page size.
- When the first ``order_by`` key is a metric, param or tag, its table drives
  the query through the ``(experiment_id, key, value)`` index, in order; filter
  clauses on the same key narrow that index range. Runs without a value for the
  key sort last (as in MLflow): a second query fills the page with them.

Queries return run ids only; the store loads the page after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, not_, select

from kiln.metadata import schema as t

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from kiln.metadata.base import RunQuery
    from kiln.metadata.filters import Clause, OrderKey

_TABLES = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}


def search_run_ids(conn: Connection, query: RunQuery) -> list[str]:
    """The ids of the page of runs the query asks for, in order."""
    r = t.runs
    base: list[ColumnElement[bool]] = []
    exp_ids = list(query.experiment_ids) if query.experiment_ids is not None else None
    if exp_ids is not None:
        base.append(r.c.experiment_id == exp_ids[0] if len(exp_ids) == 1
                    else r.c.experiment_id.in_(exp_ids))
    if query.parent_run_id is not None:
        base.append(r.c.parent_run_id == query.parent_run_id)
    order = list(query.order_by)
    first = order[0] if order and order[0].kind != "attribute" else None
    folded = [c for c in query.clauses if first and (c.kind, c.key) == (first.kind, first.key)]
    for i, clause in enumerate(query.clauses):
        if clause in folded:
            continue
        if clause.kind == "attribute":
            base.append(_compare(r.c[clause.key], clause))
        else:
            base.append(_exists(clause.kind, clause.key, i, clause))
    wanted = query.offset + query.max_results
    if first is None:
        stmt = _ordered(select(r.c.run_id).where(*base), order)
        return list(conn.execute(stmt.limit(query.max_results).offset(query.offset)).scalars())

    # Phase 1: runs that have a value for the first order key, in index order.
    driver = _TABLES[first.kind].alias("o0")
    on = [driver.c.run_id == r.c.run_id, driver.c.key == first.key, driver.c.value.is_not(None)]
    if exp_ids is not None and len(exp_ids) == 1:
        on.append(driver.c.experiment_id == exp_ids[0])
    on += [_compare(driver.c.value, c) for c in folded]
    value_order = driver.c.value.desc() if first.descending else driver.c.value.asc()
    stmt = select(r.c.run_id).select_from(r.join(driver, and_(*on))).where(*base)
    ids = list(conn.execute(_ordered(stmt, order[1:], [value_order]).limit(wanted)).scalars())
    if len(ids) < wanted and not folded:
        # Phase 2: runs without a value for it.
        missing = not_(_exists(first.kind, first.key, -1, None))
        stmt = _ordered(select(r.c.run_id).where(*base, missing), order[1:])
        ids += list(conn.execute(stmt.limit(wanted - len(ids))).scalars())
    return ids[query.offset : wanted]


def _exists(kind: str, key: str, i: int, clause: Clause | None) -> ColumnElement[bool]:
    table = _TABLES[kind].alias(f"f{i}" if i >= 0 else "m")
    cond = [table.c.run_id == t.runs.c.run_id, table.c.key == key]
    cond.append(_compare(table.c.value, clause) if clause else table.c.value.is_not(None))
    return exists().where(*cond)


def _ordered(stmt: Any, keys: list[OrderKey], head: list[Any] | None = None) -> Any:
    r = t.runs
    order: list[Any] = list(head or [])
    for i, key in enumerate(keys, start=1):
        if key.kind == "attribute":
            col: Any = r.c[key.key]
        else:
            alias = _TABLES[key.kind].alias(f"o{i}")
            stmt = stmt.outerjoin(alias, and_(alias.c.run_id == r.c.run_id,
                                              alias.c.key == key.key))
            col = alias.c.value
            order.append(col.is_(None))  # missing values last, whatever the direction
        order.append(col.desc() if key.descending else col.asc())
    order += [r.c.start_time.desc(), r.c.run_id]
    return stmt.order_by(*order)


def _compare(col: Any, clause: Clause) -> ColumnElement[bool]:
    op, value = clause.op, clause.value
    if clause.kind == "attribute" and clause.key == "status":
        value = (
            tuple(str(v).upper() for v in value)
            if isinstance(value, tuple)
            else str(value).upper()
        )
    ops: dict[str, Any] = {
        "=": lambda: col == value,
        "!=": lambda: col != value,
        "<": lambda: col < value,
        "<=": lambda: col <= value,
        ">": lambda: col > value,
        ">=": lambda: col >= value,
        "LIKE": lambda: col.like(value),
        "ILIKE": lambda: col.ilike(value),
        "IN": lambda: col.in_(value),
        "NOT IN": lambda: not_(col.in_(value)),
    }
    result: ColumnElement[bool] = ops[op]()
    return result
