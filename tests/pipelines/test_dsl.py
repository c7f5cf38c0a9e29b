"""Building graphs, and bad input reported before anything runs."""

from __future__ import annotations

import pandas as pd
import pytest

from kiln import pipeline, step
from kiln.exceptions import InvalidArgumentError
from kiln.pipelines.dsl import parse_duration
from kiln.pipelines.graph import Graph, Node
from kiln.workspace import Workspace


@step
def load(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(rows)})


@step
def split(df: pd.DataFrame, frac: float = 0.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    k = int(len(df) * frac)
    return df.iloc[:k], df.iloc[k:]


@step
def fit(df: pd.DataFrame, C: float = 1.0) -> float:
    return float(df["x"].sum()) * C


@step
def best(scores: list[float]) -> float:
    return max(scores)


@pipeline
def training(rows: int = 10, C: float = 1.0):
    train_df, test_df = split(load(rows))
    scores = fit.map(train_df, C=[0.5, C])
    return best([*scores, fit(test_df)])


def test_the_graph_comes_from_calling_the_pipeline() -> None:
    graph = training.build(C=2)
    assert list(graph.nodes) == ["load", "split", "fit", "fit_2", "fit_3", "best"]
    assert graph.nodes["best"].upstream == ["fit", "fit_2", "fit_3"]
    assert graph.nodes["fit_3"].upstream == ["split"]
    assert graph.params == {"rows": 10, "C": 2.0}
    assert graph.validate()[-1] == "best"


def test_a_step_outside_a_pipeline_is_the_plain_function() -> None:
    assert fit(pd.DataFrame({"x": [1, 2]}), C=2) == 6.0


def test_a_run_returns_outputs(ws: Workspace) -> None:
    result = training.run(rows=4, C=3.0)
    assert result.ok
    assert result.output("best") == 5.0  # fit(test rows 2 and 3)
    assert ws.get_run(result.run_id).params == {"rows": "4", "C": "3.0"}


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match=r"no parameter 'gamma'; accepted: rows, C"):
        training.build(gamma=1)


def test_wrong_pipeline_parameter_type_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match=r"parameter rows='ten' is a str; accepted: int"):
        training.build(rows="ten")


def test_wrong_step_argument_type_names_the_step() -> None:
    @pipeline
    def bad():
        fit(load(3), C="high")

    with pytest.raises(InvalidArgumentError, match=r"step 'fit': argument C='high' is a str"):
        bad.build()


def test_output_of_the_wrong_type_names_both_steps() -> None:
    @pipeline
    def bad():
        fit(fit(load(3)))

    with pytest.raises(InvalidArgumentError,
                       match=r"step 'fit_2': argument 'df' expects DataFrame but gets the "
                             r"output of 'fit', a float"):
        bad.build()


def test_unknown_step_argument_names_the_step() -> None:
    @pipeline
    def bad():
        fit(load(3), gamma=1)

    with pytest.raises(InvalidArgumentError, match=r"step 'fit' in pipeline 'bad'"):
        bad.build()


def test_unpacking_a_single_output_is_refused() -> None:
    @pipeline
    def bad():
        _a, _b = load(3)

    with pytest.raises(InvalidArgumentError, match="single value and cannot be unpacked"):
        bad.build()


def test_cycles_are_reported() -> None:
    nodes = {"a": Node("a", fit, (), {}, ["b"]), "b": Node("b", fit, (), {}, ["a"])}
    with pytest.raises(InvalidArgumentError, match=r"has a cycle: a -> b -> a"):
        Graph("loop", nodes, {}).validate()


def test_nothing_runs_when_the_graph_is_bad(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError):
        training.run(rows="many")
    assert ws.search_run_objects() == []


def test_map_needs_lists() -> None:
    @pipeline
    def bad():
        fit.map(load(3), C=2.0)

    with pytest.raises(InvalidArgumentError, match=r"map\(C=2.0\) is not accepted"):
        bad.build()


def test_durations() -> None:
    assert parse_duration("10m") == 600.0
    assert parse_duration(2) == 2.0
    assert parse_duration("250ms") == 0.25
    with pytest.raises(InvalidArgumentError, match="timeout='soon'"):
        parse_duration("soon")


def test_unimportable_module_is_one_line() -> None:
    from kiln.pipelines.loader import load_pipeline

    with pytest.raises(InvalidArgumentError, match=r"module 'no_such_mod' does not import"):
        load_pipeline("no_such_mod:fn")
    with pytest.raises(InvalidArgumentError, match=r"has no pipeline 'nope'; pipelines in it: "):
        load_pipeline("kiln.testing.pipeline_examples:nope")
