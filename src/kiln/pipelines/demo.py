"""The demo's training as a pipeline: load, split, a sweep of 8 candidates, collect.

Each candidate is a tracked run (a child of its step run) in the demo's
experiment; a second run of the pipeline with nothing changed is served from
the cache, which the demo shows by running it twice.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pandas as pd

from kiln.pipelines.dsl import pipeline, step

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.pipelines.runner import PipelineRun
    from kiln.workspace import Workspace

TARGET = "target"


@step
def load_data(dataset: str = "") -> pd.DataFrame:
    """A dataset version (recorded as the step's input), or scikit-learn's breast cancer set
    (shipped with the package: no network) when none is named."""
    if dataset:
        import kiln.data

        loaded = kiln.data.load(dataset)
        assert isinstance(loaded, pd.DataFrame), f"{dataset} is not a table"
        return loaded
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = data.frame
    return frame


@step
def split_data(df: pd.DataFrame, test_size: float = 0.25
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(df, test_size=test_size, random_state=0,
                                   stratify=df[TARGET])
    return train, test


@step
def train_candidate(train: pd.DataFrame, test: pd.DataFrame, params: dict[str, Any]) -> str:
    """Train and evaluate one sweep point as a tracked run; returns its run id."""
    from kiln.demo import _train_one

    x_cols = [c for c in train.columns if c != TARGET]
    return _train_one(params, train[x_cols], test[x_cols], train[TARGET], test[TARGET])


@step
def collect(run_ids: list[str]) -> list[str]:
    return list(run_ids)


@pipeline
def breast_cancer_training(dataset: str = "", test_size: float = 0.25) -> None:
    """The demo's sweep: every candidate trained in its own cached step."""
    from kiln.demo import SWEEP

    train, test = split_data(load_data(dataset), test_size=test_size)
    collect(train_candidate.map(train, test, params=SWEEP))


def train_sweep(ws: Workspace, console: Console, dataset: str = "") -> list[str]:
    """Run the training pipeline (with progress), then again to show the cache; returns
    the candidates' run ids."""
    from rich.progress import Progress

    from kiln.pipelines.runner import run_pipeline

    total = len(breast_cancer_training.build().nodes)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("2. Pipeline: training", total=total)

        def on_event(kind: str, record: Any) -> None:
            if kind != "started":
                progress.advance(task)

        start = time.perf_counter()
        first = run_pipeline(breast_cancer_training, {"dataset": dataset}, workspace=ws,
                             on_event=on_event)
        first_s = time.perf_counter() - start
    first.raise_for_status()
    start = time.perf_counter()
    again = run_pipeline(breast_cancer_training, {"dataset": dataset},
                         workspace=ws).raise_for_status()
    again_s = time.perf_counter() - start
    console.print(f"[bold]2. Pipeline[/]: breast_cancer_training run {first.run_id[:8]}: "
                  f"{_counts(first)} in {first_s:.1f}s")
    console.print(f"   re-run {again.run_id[:8]}: {len(again.cached_steps)} of "
                  f"{len(again.steps)} steps served from the cache in {again_s:.2f}s "
                  f"(kiln pipeline show {again.run_id})")
    run_ids: list[str] = first.output("collect")
    return run_ids


def _counts(result: PipelineRun) -> str:
    return (f"{len(result.steps)} steps, {len(result.executed_steps)} ran, "
            f"{len(result.cached_steps)} from the cache")
