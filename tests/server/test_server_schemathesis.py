"""schemathesis fuzzes every operation of the OpenAPI spec in-process (ASGI), positive and
negative data: no request it builds makes the server answer 5xx, every 4xx is a one-line
JSON error. (schemathesis' pytest plugin needs pytest internals pytest 9 removed, so its
hypothesis strategies are driven directly, one operation at a time.)"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from kiln.artifacts.local import LocalArtifactStore
from kiln.metadata.sql import SqlMetadataStore
from kiln.settings import Settings

EXAMPLES = int(os.environ.get("KILN_FUZZ_EXAMPLES", "4"))  # per operation and mode


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[Any]:
    from kiln.server.app import create_app

    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    exp = store.get_or_create_experiment("e")
    store.create_run(exp.experiment_id, "r", "u", 1, {})
    store.create_model_version("m", run_id=None, flavor="sklearn", artifact="a" * 64,
                               signature=None, user="u", created_at=1)
    app = create_app(store, LocalArtifactStore(tmp_path / "artifacts"), ui=False,
                     settings=Settings(home=tmp_path / "home"))
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    store.close()


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


def _fuzz(operation: Any, mode: GenerationMode, problems: list[str]) -> None:
    """Send ``EXAMPLES`` generated requests; note every 5xx and every malformed error."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              derandomize=not os.environ.get("KILN_FUZZ_EXAMPLES"),
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call()
        where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.200}"
        if response.status_code >= 500:
            problems.append(f"{response.status_code} {where}: {response.text[:200]}")
        elif response.status_code >= 400 and response.content:
            error = response.json().get("error", {})
            if set(error) != {"type", "message"} or "\n" in error["message"]:
                problems.append(f"malformed error {where}: {response.text[:200]}")

    try:
        run()
    except Unsatisfiable:
        # nothing in the operation can be made invalid (no parameters, no body)
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
def test_no_request_from_the_spec_crashes_the_server(api_schema: Any) -> None:
    operations = _operations(api_schema)
    assert len(operations) > 60
    problems: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, problems)
    assert problems == [], "\n".join(problems)


def test_spec_covers_every_router(api_schema: Any) -> None:
    tags = {tag for op in _operations(api_schema) for tag in op.tags or ()}
    assert {"tracking", "registry", "lineage", "artifacts", "auth", "data", "features",
            "pipelines", "deployments", "audit"} <= tags
