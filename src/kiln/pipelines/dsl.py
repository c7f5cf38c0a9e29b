"""``@step`` and ``@pipeline``: the graph is built by calling the pipeline with placeholders.

Inside a pipeline function a step call runs nothing: it records a node and
returns :class:`Output` placeholders, so any Python (loops, conditionals on
parameters, ``return``) can shape the graph. Outside a pipeline a step is the
plain function.

>>> from kiln.pipelines import step, pipeline
>>> @step
... def double(x: int) -> int:
...     return 2 * x
>>> @pipeline
... def twice(x: int = 1):
...     return double(double(x))
>>> [n.node_id for n in twice.build().nodes.values()]
['double', 'double_2']
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from kiln.exceptions import InvalidArgumentError
from kiln.pipelines.graph import Graph, Node, Output, outputs_in
from kiln.pipelines.typecheck import check_value, compatible, describe

if TYPE_CHECKING:
    from kiln.pipelines.runner import PipelineRun
    from kiln.pipelines.triggers import Trigger
    from kiln.workspace import Workspace

_builder: ContextVar[_GraphBuilder | None] = ContextVar("kiln_pipeline_builder", default=None)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: float | str | None, what: str = "timeout") -> float | None:
    """Seconds from ``30``, ``"30s"``, ``"10m"``, ``"2h"``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise InvalidArgumentError(
            f"{what}={value!r} is not accepted; use seconds or a string like '30s', '10m', '2h'"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


class Step:
    """A function that runs as one tracked, cached, retried unit of a pipeline."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        retries: int = 0,
        timeout: float | str | None = None,
        backoff: float = 1.0,
        cache: bool = True,
        outputs: int | None = None,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidArgumentError(f"retries={retries!r} is not accepted; use an int >= 0")
        self.fn = fn
        self.name = name or fn.__name__
        self.retries = retries
        self.timeout = parse_duration(timeout)
        self.backoff = float(backoff)
        self.cache = cache
        self.signature = inspect.signature(fn)
        try:
            self.hints: dict[str, Any] = typing.get_type_hints(fn)
        except Exception:  # unresolvable annotations: skip type checks, never fail
            self.hints = {}
        self.n_outputs = outputs if outputs is not None else _tuple_arity(self.hints.get("return"))
        self.output_types: tuple[Any, ...] = _output_types(self.hints.get("return"),
                                                           self.n_outputs)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = _builder.get()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add(self, args, kwargs)

    def map(self, *args: Any, **sweeps: Any) -> list[Any]:
        """One call per combination of the keyword lists (a grid), e.g.
        ``train.map(train_df, C=[0.1, 1, 10])``; returns the outputs as a list."""
        if not sweeps:
            raise InvalidArgumentError(f"step {self.name!r}: map() needs at least one keyword "
                                       "argument given as a list of values")
        for key, values in sweeps.items():
            if not isinstance(values, list | tuple) or not values:
                raise InvalidArgumentError(
                    f"step {self.name!r}: map({key}={values!r}) is not accepted; give a "
                    "non-empty list of values")
        keys = list(sweeps)
        return [self(*args, **dict(zip(keys, combo, strict=True)))
                for combo in itertools.product(*(sweeps[k] for k in keys))]

    def __repr__(self) -> str:
        return f"Step({self.name!r})"


@overload
def step(fn: Callable[..., Any], /) -> Step: ...
@overload
def step(
    *,
    name: str | None = None,
    retries: int = 0,
    timeout: float | str | None = None,
    backoff: float = 1.0,
    cache: bool = True,
    outputs: int | None = None,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    timeout: float | str | None = None,
    backoff: float = 1.0,
    cache: bool = True,
    outputs: int | None = None,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Make ``fn`` a pipeline step: ``@step`` or ``@step(retries=2, timeout="10m")``.

    ``retries`` re-runs a failing step after ``backoff * 2**attempt`` seconds;
    ``timeout`` fails an attempt that runs longer; ``cache=False`` always runs it;
    ``outputs=N`` declares N outputs when the return annotation is not a ``tuple[...]``.
    """
    def wrap(f: Callable[..., Any]) -> Step:
        return Step(f, name=name, retries=retries, timeout=timeout, backoff=backoff,
                    cache=cache, outputs=outputs)

    return wrap(fn) if fn is not None else wrap


@dataclass
class _GraphBuilder:
    pipeline: str
    nodes: dict[str, Node] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, st: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        n = self.counts.get(st.name, 0) + 1
        self.counts[st.name] = n
        node_id = st.name if n == 1 else f"{st.name}_{n}"
        try:
            bound = st.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidArgumentError(f"step {node_id!r} in pipeline {self.pipeline!r}: {exc}; "
                                       f"accepted: {st.name}{st.signature}") from None
        for pname, value in bound.arguments.items():
            self._check(node_id, st, pname, value)
        node = Node(node_id, st, bound.args, dict(bound.kwargs))
        self.nodes[node_id] = node
        outs = tuple(Output(node_id, i, st.output_types[i]) for i in range(st.n_outputs))
        return outs if st.n_outputs > 1 else outs[0]

    def _check(self, node_id: str, st: Step, pname: str, value: Any) -> None:
        hint = st.hints.get(pname)
        param = st.signature.parameters[pname]
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            hint = None
        for out in outputs_in(value):
            if out.node_id not in self.nodes:
                raise InvalidArgumentError(
                    f"step {node_id!r}: argument {pname!r} uses an output of {out.node_id!r}, "
                    f"which is not part of pipeline {self.pipeline!r}")
        if hint is None:
            return
        if isinstance(value, Output):
            if not compatible(value.annotation, hint):
                raise InvalidArgumentError(
                    f"step {node_id!r}: argument {pname!r} expects {describe(hint)} but gets "
                    f"the output of {value.node_id!r}, a {describe(value.annotation)}")
            return
        if not outputs_in(value) and not check_value(value, hint):
            raise InvalidArgumentError(
                f"step {node_id!r}: argument {pname}={_short(value)} is a "
                f"{type(value).__name__}; accepted: {describe(hint)}")


class Pipeline:
    """A function of steps. Call it (or :meth:`run`) to run it; :meth:`build` gives its graph."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        experiment: str | None = None,
        triggers: Sequence[Trigger] = (),
        cache: bool = True,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.experiment = experiment or self.name
        self.triggers = list(triggers)
        self.cache = cache
        self.signature = inspect.signature(fn)
        try:
            self.hints: dict[str, Any] = typing.get_type_hints(fn)
        except Exception:
            self.hints = {}
        functools.update_wrapper(self, fn)

    @property
    def ref(self) -> str:
        """``module:function``, the way ``kiln pipeline run`` names it."""
        return f"{self.fn.__module__}:{self.fn.__qualname__}"

    def resolve_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``params``: unknown names and wrong types are refused."""
        accepted = list(self.signature.parameters)
        resolved: dict[str, Any] = {}
        for key in params:
            if key not in self.signature.parameters:
                raise InvalidArgumentError(
                    f"pipeline {self.name!r} has no parameter {key!r}; accepted: "
                    f"{', '.join(accepted) or 'none'}")
        for pname, param in self.signature.parameters.items():
            if pname in params:
                value = params[pname]
            elif param.default is not inspect.Parameter.empty:
                value = param.default
            else:
                raise InvalidArgumentError(
                    f"pipeline {self.name!r} needs parameter {pname!r} (no default); "
                    f"give it with -p {pname}=VALUE")
            hint = self.hints.get(pname)
            if hint is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if hint is not None and not check_value(value, hint):
                raise InvalidArgumentError(
                    f"pipeline {self.name!r}: parameter {pname}={_short(value)} is a "
                    f"{type(value).__name__}; accepted: {describe(hint)}")
            resolved[pname] = value
        return resolved

    def build(self, **params: Any) -> Graph:
        """Call the function with placeholders and return the checked graph."""
        resolved = self.resolve_params(params)
        builder = _GraphBuilder(self.name)
        with _tracing(builder):
            self.fn(**resolved)
        graph = Graph(self.name, builder.nodes, resolved)
        graph.validate()
        return graph

    def run(
        self,
        *,
        executor: str | Any = "local",
        cache: bool | None = None,
        workspace: Workspace | None = None,
        **params: Any,
    ) -> PipelineRun:
        """Run the pipeline and return its :class:`~kiln.pipelines.runner.PipelineRun`."""
        from kiln.pipelines.runner import run_pipeline

        return run_pipeline(self, params, executor=executor, cache=cache, workspace=workspace)

    def __call__(self, **params: Any) -> PipelineRun:
        return self.run(**params)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r})"


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(
    *,
    name: str | None = None,
    experiment: str | None = None,
    triggers: Sequence[Trigger] = (),
    cache: bool = True,
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    experiment: str | None = None,
    triggers: Sequence[Trigger] = (),
    cache: bool = True,
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Make ``fn`` a pipeline: ``@pipeline`` or ``@pipeline(triggers=[schedule(cron=...)])``."""
    def wrap(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name, experiment=experiment, triggers=triggers, cache=cache)

    return wrap(fn) if fn is not None else wrap


@contextmanager
def _tracing(builder: _GraphBuilder) -> Iterator[None]:
    token = _builder.set(builder)
    try:
        yield
    finally:
        _builder.reset(token)


def _tuple_arity(annotation: Any) -> int:
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if args and args[-1] is not Ellipsis and args != ((),):
            return len(args)
    return 1


def _output_types(annotation: Any, n: int) -> tuple[Any, ...]:
    if n > 1 and typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if len(args) == n:
            return tuple(args)
    return (annotation,) * n if n == 1 else (None,) * n


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["Pipeline", "Step", "parse_duration", "pipeline", "step"]
