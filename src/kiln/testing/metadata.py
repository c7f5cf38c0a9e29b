"""``MetadataStoreSuite``: the behaviour every metadata store must show.

Subclass it in a test module and give it a ``store`` fixture that yields a new,
empty store; every test below then runs against your backend.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from kiln.entities import LineageEdge, Metric, RunArtifact, RunStatus, Signature
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata.base import MetadataStore, RunQuery
from kiln.metadata.filters import parse_filter, parse_order_by


def _q(store: MetadataStore, flt: str = "", order: list[str] | None = None, **kw: Any) -> list[str]:
    query = RunQuery(clauses=parse_filter(flt), order_by=parse_order_by(order), **kw)
    return [r.name for r in store.search_runs(query)]


class MetadataStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.MetadataStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def _run(self, store: MetadataStore, name: str, experiment: str = "exp", t0: int = 1000,
             **tags: str) -> str:
        exp = store.get_or_create_experiment(experiment)
        return store.create_run(exp.experiment_id, name, "alice", t0, tags).run_id

    # -- experiments and runs -------------------------------------------------------------
    def test_experiments_are_created_once(self, store: MetadataStore) -> None:
        a = store.get_or_create_experiment("churn")
        b = store.get_or_create_experiment("churn")
        assert a == b
        assert [e.name for e in store.list_experiments()] == ["churn"]
        with pytest.raises(NotFoundError, match="'nope'"):
            store.get_experiment("nope")

    def test_run_lifecycle(self, store: MetadataStore) -> None:
        run_id = self._run(store, "r1", team="risk")
        run = store.get_run(run_id)
        assert (run.status, run.experiment, run.user, run.tags) == (
            RunStatus.RUNNING, "exp", "alice", {"team": "risk"})
        assert run.end_time is None
        store.end_run(run_id, RunStatus.FAILED, 2000, "ValueError: boom")
        run = store.get_run(run_id)
        assert (run.status, run.end_time, run.error) == (RunStatus.FAILED, 2000,
                                                          "ValueError: boom")

    def test_unknown_run_is_named(self, store: MetadataStore) -> None:
        for call in (
            lambda: store.get_run("missing"),
            lambda: store.end_run("missing", RunStatus.FINISHED, 1),
            lambda: store.log_batch("missing", params={"a": "1"}),
            lambda: store.write_metrics([("missing", Metric("m", 1.0, 0, 1))]),
            lambda: store.get_metric_history("missing", "m"),
        ):
            with pytest.raises(NotFoundError, match="'missing'"):
                call()

    def test_params_are_immutable_and_tags_overwrite(self, store: MetadataStore) -> None:
        run_id = self._run(store, "r")
        store.log_batch(run_id, params={"C": "1.0"}, tags={"t": "a"})
        store.log_batch(run_id, params={"C": "1.0"}, tags={"t": "b"})  # same value is fine
        with pytest.raises(ConflictError, match="'C'"):
            store.log_batch(run_id, params={"C": "2.0", "new": "x"})
        run = store.get_run(run_id)
        assert run.params == {"C": "1.0"}  # the failed batch wrote nothing
        assert run.tags == {"t": "b"}

    def test_metric_history_and_latest(self, store: MetadataStore) -> None:
        run_id = self._run(store, "r")
        store.log_batch(run_id, [Metric("loss", 0.5, 0, 10), Metric("loss", 0.3, 2, 11)])
        store.write_metrics([(run_id, Metric("loss", 0.4, 1, 12)),
                             (run_id, Metric("acc", math.nan, 0, 12))])
        history = store.get_metric_history(run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.4), (2, 0.3)]
        run = store.get_run(run_id)
        assert run.metrics["loss"] == 0.3  # highest step wins, not the last write
        assert math.isnan(run.metrics["acc"])
        assert store.get_metric_history(run_id, "other") == []

    def test_artifacts(self, store: MetadataStore) -> None:
        run_id = self._run(store, "r")
        store.log_artifact(RunArtifact(run_id, "b.txt", "1" * 64, 3))
        store.log_artifact(RunArtifact(run_id, "a/x.bin", "2" * 64, 5))
        store.log_artifact(RunArtifact(run_id, "b.txt", "3" * 64, 4))
        assert [(a.path, a.sha256[0], a.size) for a in store.list_artifacts(run_id)] == [
            ("a/x.bin", "2", 5), ("b.txt", "3", 4)]

    # -- search ---------------------------------------------------------------------------
    def _population(self, store: MetadataStore) -> None:
        for i, (auc, c, team) in enumerate(
            [(0.95, "1.0", "risk"), (0.85, "1.0", "growth"), (0.91, "0.1", "risk"), (None, "10",
                                                                                     "risk")]
        ):
            run_id = self._run(store, f"r{i}", t0=1000 + i, team=team)
            metrics = [] if auc is None else [Metric("auc", auc, 0, 1)]
            store.log_batch(run_id, metrics, params={"C": c})
        other = self._run(store, "other", experiment="exp2", t0=5000)
        store.log_batch(other, [Metric("auc", 0.99, 0, 1)], params={"C": "1.0"})
        store.end_run(other, RunStatus.FINISHED, 6000)

    def test_search_filters(self, store: MetadataStore) -> None:
        self._population(store)
        exp = store.get_experiment("exp").experiment_id
        assert _q(store, "metrics.auc > 0.9", ["metrics.auc DESC"], experiment_ids=[exp]) == [
            "r0", "r2"]
        assert _q(store, "metrics.auc > 0.9 and params.C = '1.0'",
                  ["metrics.auc DESC"]) == ["other", "r0"]
        assert _q(store, "tags.team LIKE 'gr%'") == ["r1"]
        assert _q(store, "tags.team LIKE 'GR%'") == []  # LIKE is case-sensitive
        assert _q(store, "tags.team ILIKE 'GR%'") == ["r1"]
        assert _q(store, "params.C IN ('0.1', '10')", ["name"]) == ["r2", "r3"]
        assert _q(store, "params.C NOT IN ('1.0')", ["name"]) == ["r2", "r3"]
        assert _q(store, "params.C != '1.0'", ["name"]) == ["r2", "r3"]
        assert _q(store, "status = 'finished'") == ["other"]
        assert _q(store, "start_time >= 1002", ["start_time ASC"]) == ["r2", "r3", "other"]
        assert _q(store, "metrics.auc <= 0.85") == ["r1"]
        assert _q(store, "name = 'r3'") == ["r3"]

    def test_search_order_and_page(self, store: MetadataStore) -> None:
        self._population(store)
        exp = store.get_experiment("exp").experiment_id
        # runs without the metric sort last in both directions
        assert _q(store, order=["metrics.auc ASC"], experiment_ids=[exp]) == [
            "r1", "r2", "r0", "r3"]
        assert _q(store, order=["metrics.auc DESC"], experiment_ids=[exp]) == [
            "r0", "r2", "r1", "r3"]
        # default: newest first
        assert _q(store, experiment_ids=[exp]) == ["r3", "r2", "r1", "r0"]
        assert _q(store, experiment_ids=[exp], max_results=2, offset=1) == ["r2", "r1"]
        runs = store.search_runs(RunQuery(experiment_ids=[exp], max_results=1))
        assert runs[0].params == {"C": "10"} and runs[0].tags == {"team": "risk"}

    # -- registry -------------------------------------------------------------------------
    def _version(self, store: MetadataStore, name: str = "clf", run_id: str | None = None
                 ) -> int:
        sig = Signature([{"name": "x", "type": "double"}], [{"name": "y", "type": "long"}])
        mv = store.create_model_version(name, run_id=run_id, flavor="sklearn", artifact="a" * 64,
                                        signature=sig, user="alice", created_at=1)
        return mv.version

    def test_versions_are_numbered(self, store: MetadataStore) -> None:
        assert [self._version(store) for _ in range(3)] == [1, 2, 3]
        assert self._version(store, "other") == 1
        mv = store.get_model_version("clf", 2)
        assert mv.signature is not None and mv.signature.input_columns == ["x"]
        assert [m.version for m in store.list_model_versions("clf")] == [1, 2, 3]
        assert store.get_registered_model("clf").latest_version == 3
        assert [m.name for m in store.list_registered_models()] == ["clf", "other"]
        with pytest.raises(NotFoundError, match=r"no version 9; versions: 1\.\.3"):
            store.get_model_version("clf", 9)
        with pytest.raises(NotFoundError, match="'ghost' is not registered"):
            store.list_model_versions("ghost")

    def test_concurrent_registration_gets_distinct_versions(self, store: MetadataStore) -> None:
        results: list[int] = []
        errors: list[BaseException] = []

        def register() -> None:
            try:
                for _ in range(5):
                    results.append(self._version(store))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=register) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        assert sorted(results) == list(range(1, 21))

    def test_aliases_and_history(self, store: MetadataStore) -> None:
        for _ in range(3):
            self._version(store)
        store.set_alias("clf", "production", 1, "alice", 10)
        store.set_alias("clf", "production", 3, "bob", 20)
        store.set_alias("clf", "production", 3, "bob", 25)  # no move, no event
        store.set_alias("clf", "challenger", 2, "bob", 30)
        assert store.get_alias("clf", "production") == 3
        assert store.get_model_version("clf", 3).aliases == ("production",)
        assert store.get_registered_model("clf").aliases == {"production": 3, "challenger": 2}
        store.delete_alias("clf", "challenger", "carol", 40)
        history = [(e.alias, e.from_version, e.to_version, e.user)
                   for e in store.alias_history("clf")]
        assert history == [("production", None, 1, "alice"), ("production", 1, 3, "bob"),
                           ("challenger", None, 2, "bob"), ("challenger", 2, None, "carol")]
        assert len(store.alias_history("clf", "production")) == 2
        with pytest.raises(NotFoundError, match="no alias 'challenger'; aliases: 'production'"):
            store.get_alias("clf", "challenger")
        with pytest.raises(NotFoundError, match="no version 7"):
            store.set_alias("clf", "production", 7, "x", 50)
        with pytest.raises(NotFoundError):
            store.delete_alias("clf", "missing", "x", 50)

    def test_lineage_edges(self, store: MetadataStore) -> None:
        run_id = self._run(store, "r")
        store.add_edges([LineageEdge("run", run_id, "model_version", "clf/1", "produced", 1),
                         LineageEdge("dataset_version", "d/1", "run", run_id, "input", 1)])
        assert [e.dst_id for e in store.edges_from("run", run_id)] == ["clf/1"]
        assert [e.src_id for e in store.edges_to("run", run_id)] == ["d/1"]
        assert store.edges_from("run", "nothing") == []
