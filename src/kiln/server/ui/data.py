"""Pages of data versions and the feature store: datasets (versions, schema, statistics,
diffs, validation reports) and feature views (definition, versions, online freshness)."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]
FILES_SHOWN = 200


@router.get("/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, who: Who) -> HTMLResponse:
    s = store(request)
    latest = [s.latest_dataset_version(name) for name in s.list_datasets()]
    return render(request, "datasets.html", who=who, datasets=latest)


@router.get("/datasets/{name:path}", response_class=HTMLResponse)
def dataset_page(name: str, request: Request, who: Who, version: int | None = None,
                 a: int | None = None, b: int | None = None) -> HTMLResponse:
    from kiln.data.client import validation_reports
    from kiln.data.compare import diff_versions
    from kiln.data.snapshot import load_manifest

    s = store(request)
    artifacts = request.app.state.artifacts
    try:
        versions = s.list_dataset_versions(name)
        shown = s.get_dataset_version(name, version) if version else versions[-1]
        diff = None
        if a is not None and b is not None:
            va, vb = s.get_dataset_version(name, a), s.get_dataset_version(name, b)
            diff = diff_versions(va, vb, load_manifest(artifacts, va.tree),
                                 load_manifest(artifacts, vb.tree))
        files = load_manifest(artifacts, shown.tree)
        reports = validation_reports(s, artifacts, shown.ref)
    except KilnError as exc:
        return page_error(request, exc)
    listed = sorted(files.items())[:FILES_SHOWN]
    return render(request, "dataset.html", who=who, dataset=name, versions=list(reversed(versions)),
                  shown=shown, files=listed, file_total=len(files), diff=diff, reports=reports,
                  a=a or (versions[-2].version if len(versions) > 1 else shown.version),
                  b=b or versions[-1].version)


@router.get("/features", response_class=HTMLResponse)
def features_page(request: Request, who: Who) -> HTMLResponse:
    s = store(request)
    views = s.list_feature_definitions("feature_view")
    fresh: dict[str, list[dict[str, Any]]] = {}
    for m in s.list_materializations():
        fresh.setdefault(m.view, []).append(_freshness(m))
    return render(request, "features.html", who=who, views=views, fresh=fresh,
                  entities=s.list_feature_definitions("entity"))


@router.get("/features/{name}", response_class=HTMLResponse)
def feature_view_page(name: str, request: Request, who: Who,
                      version: int | None = None) -> HTMLResponse:
    import yaml

    from kiln.features.registry import diff_specs

    s = store(request)
    try:
        history = s.list_feature_definition_versions("feature_view", name)
        shown = s.get_feature_definition("feature_view", name, version)
    except KilnError as exc:
        return page_error(request, exc)
    changes = {d.version: diff_specs(prev.spec, d.spec)
               for prev, d in pairwise(history)}
    return render(request, "feature_view.html", who=who, view=shown,
                  history=list(reversed(history)), changes=changes,
                  definition=yaml.safe_dump(shown.spec, sort_keys=False),
                  fresh=[_freshness(m) for m in s.list_materializations(name)])


def _freshness(m: Any) -> dict[str, Any]:
    """A materialization record with the age of the newest data it covers."""
    now = int(time.time() * 1000)
    return {"target": m.target, "view_version": m.view_version, "until": m.until,
            "rows": m.rows, "updated_at": m.updated_at, "age": _age(now - m.until)}


def _age(ms: int) -> str:
    seconds = max(0, ms // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds} s"
