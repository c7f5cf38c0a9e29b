"""Unit tests: route specs, weighted sticky choice, canary windows, the micro-batcher."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import numpy as np
import pytest

from kiln.entities import CanaryPolicy, Route
from kiln.exceptions import InvalidArgumentError
from kiln.serving.batching import Batcher, ModelError, QueueFullError
from kiln.serving.inputs import Prepared
from kiln.serving.routing import CanaryWindow, WeightedChoice
from kiln.serving.spec import build_spec, parse_route, parse_weights, with_weights


def test_parse_routes() -> None:
    assert parse_route("churn-clf@production:90") == Route("churn-clf", alias="production",
                                                           weight=90)
    assert parse_route("churn-clf/3:10") == Route("churn-clf", version=3, weight=10)
    assert parse_route("churn-clf@candidate", shadow=True).weight == 0
    assert parse_route("m@a").weight == 100
    for bad, match in [("churn", "MODEL@ALIAS"), ("m@a:x", "'x'"), ("m@a:-1", ">= 0"),
                       ("m/zero:1", "version"), ("", "accepted")]:
        with pytest.raises(InvalidArgumentError, match=match):
            parse_route(bad)
    with pytest.raises(InvalidArgumentError, match="takes no weight"):
        parse_route("m@a:5", shadow=True)


def test_specs_are_checked() -> None:
    spec = build_spec(["m@a:90", "m@b:10"], ["m@c"], sticky_key="header:X-Customer")
    assert spec.sticky_key == "header:x-customer"
    with pytest.raises(InvalidArgumentError, match="appears twice"):
        build_spec(["m@a:1"], ["m@a"])
    with pytest.raises(InvalidArgumentError, match="sum to 0"):
        build_spec(["m@a:0"])
    with pytest.raises(InvalidArgumentError, match="header:NAME"):
        build_spec(["m@a:1"], sticky_key="cookie:x")
    with pytest.raises(InvalidArgumentError, match="canary route 'm@z'"):
        build_spec(["m@a:1"], canary=CanaryPolicy("m@z"))
    changed = with_weights(spec, parse_weights(["m@a:0", "m@b:100"]))
    assert [r.weight for r in changed.routes] == [0, 100]
    with pytest.raises(InvalidArgumentError, match="'m@q' is not in the deployment"):
        with_weights(spec, {"m@q": 1})


def test_weighted_choice_splits_and_sticks() -> None:
    choice = WeightedChoice([90, 10, 0])
    counts = Counter(choice.choose() for _ in range(20_000))
    assert counts[2] == 0
    assert 0.85 < counts[0] / 20_000 < 0.95
    keyed = Counter(choice.choose(f"customer-{i}") for i in range(20_000))
    assert 0.85 < keyed[0] / 20_000 < 0.95 and keyed[2] == 0
    assert all(choice.choose("alice") == choice.choose("alice") for _ in range(50))
    assert WeightedChoice([1, 1]).choose("bob") == WeightedChoice([1, 1]).choose("bob")


def test_canary_window() -> None:
    window = CanaryWindow(CanaryPolicy("m@c", max_error_rate=0.1, max_latency_ms=50,
                                       window=10, min_requests=5))
    assert all(window.record(True, 1.0) is None for _ in range(10))
    reason = None
    for _ in range(3):
        reason = reason or window.record(False, 1.0)
    assert reason is not None and "error rate" in reason
    assert window.record(False, 1.0) is None  # trips once
    slow = CanaryWindow(CanaryPolicy("m@c", max_latency_ms=50, window=10, min_requests=5))
    reasons = [slow.record(True, 80.0) for _ in range(5)]
    assert reasons[-1] is not None and "p95 latency" in reasons[-1]


def _prepared(*rows: float) -> Prepared:
    return Prepared(len(rows), matrix=np.array([[r] for r in rows]))


def _merge(items: list[Prepared]) -> Any:
    return np.vstack([p.matrix for p in items])


def test_batcher_merges_concurrent_requests_into_one_call() -> None:
    calls: list[int] = []

    def predict(matrix: Any) -> Any:
        calls.append(len(matrix))
        return matrix[:, 0] * 10

    async def main() -> list[Any]:
        batcher = Batcher(predict, _merge, max_batch_size=8, max_wait_ms=0)
        results = await asyncio.gather(*(batcher.submit(_prepared(i)) for i in range(20)))
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert [r.tolist() for r in results] == [[i * 10.0] for i in range(20)]
    assert calls == [8, 8, 4]


def test_batcher_bounds_its_queue_and_isolates_failures() -> None:
    def predict(matrix: Any) -> Any:
        if (matrix < 0).any():
            raise ValueError("negative")
        return matrix[:, 0]

    async def main() -> list[Any]:
        batcher = Batcher(predict, _merge, max_batch_size=8, max_wait_ms=0, max_queue=3)
        out = await asyncio.gather(
            *(batcher.submit(_prepared(v)) for v in (1.0, -1.0, 2.0, 3.0)),
            return_exceptions=True)
        await batcher.close()
        return out

    ok1, bad, ok2, full = asyncio.run(main())
    assert ok1.tolist() == [1.0] and ok2.tolist() == [2.0]
    assert isinstance(bad, ModelError) and "negative" in str(bad)
    assert isinstance(full, QueueFullError)


def test_recent_ids_evicts_oldest_and_holds_its_memory_from_the_start() -> None:
    from kiln.serving.app import RecentIds

    recent = RecentIds(1000)
    ring = recent._ring
    assert "req-0" not in recent  # empty slots match nothing
    for i in range(5000):
        recent.add(f"req-{i}")
    assert all(f"req-{i}" in recent for i in range(4000, 5000))
    assert not any(f"req-{i}" in recent for i in range(4000))
    assert 12345 not in recent
    assert recent.unseen(["req-4999", "req-1", "req-4000", "new"]) == ["req-1", "new"]
    assert recent._ring is ring and ring.nbytes == 8000  # the same memory throughout
    with pytest.raises(ValueError, match="capacity 0"):
        RecentIds(0)
