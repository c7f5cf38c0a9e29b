"""``PipelineStoreSuite``: the pipeline part of a metadata store (cache, triggers, leases).

Subclass it with a ``store`` fixture yielding a new, empty store.
"""

from __future__ import annotations

import pytest

from kiln.entities import (
    CacheEntry,
    LineageEdge,
    OutputRef,
    RunArtifact,
    RunStatus,
    StepRunWrite,
    TriggerRecord,
)
from kiln.metadata.base import MetadataStore


class PipelineStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.PipelineStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_step_runs_are_written_in_one_batch(self, store: MetadataStore) -> None:
        exp = store.get_or_create_experiment("p")
        parent = store.create_run(exp.experiment_id, "pipe", "alice", 1000, {}).run_id
        out = OutputRef("json", "a" * 64, 3)
        started = StepRunWrite("1" * 32, True, "train", RunStatus.RUNNING, 1000,
                               tags={"kiln.step": "train"})
        cached = StepRunWrite("2" * 32, True, "load", RunStatus.FINISHED, 1000, 1000,
                              params={"n": "3"}, tags={"kiln.cached": "true"})
        store.write_step_runs(exp.experiment_id, parent, "alice", [cached, started])
        run = store.get_run("1" * 32)
        assert run.status is RunStatus.RUNNING and run.parent_run_id == parent
        assert run.tags == {"kiln.step": "train"}
        assert store.get_run("2" * 32).params == {"n": "3"}
        finished = StepRunWrite(
            "1" * 32, False, "train", RunStatus.FINISHED, 1000, 2000, params={"C": "1.0"},
            tags={"kiln.cached": "false"},
            artifacts=[RunArtifact("1" * 32, "outputs/0.json", out.sha256, 3)],
            edges=[LineageEdge("run", "1" * 32, "artifact", out.sha256, "produced", 2000)],
            cache=CacheEntry("k" * 64, "1" * 32, (out,), 2000),
            more_caches=[CacheEntry("s" * 64, "1" * 32, (out,), 2000)])
        store.write_step_runs(exp.experiment_id, parent, "alice", [finished])
        run = store.get_run("1" * 32)
        assert run.status is RunStatus.FINISHED and run.end_time == 2000
        assert run.params == {"C": "1.0"} and run.tags["kiln.cached"] == "false"
        assert [a.path for a in store.list_artifacts("1" * 32)] == ["outputs/0.json"]
        assert store.edges_from("run", "1" * 32)[0].dst_id == out.sha256
        assert store.get_cached("k" * 64) == CacheEntry("k" * 64, "1" * 32, (out,), 2000)
        assert store.get_cached("x" * 64) is None
        many = store.get_cached_many(["s" * 64, "x" * 64, "k" * 64])
        assert sorted(many) == ["k" * 64, "s" * 64] and many["s" * 64].outputs == (out,)
        assert store.get_cached_many([]) == {}

    def test_triggers_keep_their_state_when_saved_again(self, store: MetadataStore) -> None:
        rec = TriggerRecord("m:f#schedule:* * * * *", "m:f", "schedule", {"cron": "* * * * *"},
                            {"C": 1}, {}, 10, 10)
        store.save_trigger(rec)
        store.set_trigger_state(rec.trigger_id, {"last": 5}, 20)
        again = store.save_trigger(TriggerRecord(rec.trigger_id, "m:f", "schedule",
                                                 {"cron": "* * * * *"}, {"C": 2}, {}, 30, 30))
        assert again.state == {"last": 5} and again.params == {"C": 2}
        assert [t.trigger_id for t in store.list_triggers()] == [rec.trigger_id]

    def test_a_fire_is_claimed_once(self, store: MetadataStore) -> None:
        assert store.claim_fire("t", "k1", "a", 1)
        assert not store.claim_fire("t", "k1", "b", 2)
        assert store.claim_fire("t", "k2", "b", 3)
        store.set_fire_run("t", "k1", "r" * 32)
        assert store.count_fires("t") == 2

    def test_trigger_events_in_order(self, store: MetadataStore) -> None:
        first = store.add_trigger_event("alert", "drift", {"psi": 0.3}, 1)
        store.add_trigger_event("alert", "other", {}, 2)
        second = store.add_trigger_event("alert", "drift", {}, 3)
        assert [e.event_id for e in store.trigger_events("alert", "drift")] == [
            first.event_id, second.event_id]
        assert store.trigger_events("alert", "drift", first.event_id)[0].payload == {}
        assert store.trigger_events("alert", "drift")[0].payload == {"psi": 0.3}

    def test_leases_exclude_other_owners_until_they_expire(self, store: MetadataStore) -> None:
        assert store.acquire_lease("s", "a", now=1000, ttl_ms=100)
        assert not store.acquire_lease("s", "b", now=1050, ttl_ms=100)
        assert store.acquire_lease("s", "a", now=1080, ttl_ms=100)  # renewal
        assert not store.acquire_lease("s", "b", now=1150, ttl_ms=100)
        assert store.acquire_lease("s", "b", now=1181, ttl_ms=100)  # a's lease expired
        store.release_lease("s", "b")
        assert store.acquire_lease("s", "a", now=1190, ttl_ms=100)
