"""``kiln.autolog()`` for frameworks with a training loop: XGBoost, LightGBM and Keras.

Each training call (``xgboost.train`` / ``XGBModel.fit``, ``lightgbm.train`` /
``LGBMModel.fit``, ``keras.Model.fit``) gets a kiln callback that logs the metrics of
every iteration or epoch (``validation_0-logloss``, ``valid_0-l2``, ``loss``...); the
training parameters and the trained model (in its native format, with an input example
when the data allows) are logged when it ends. It runs in the active run, or in a new
run named after the framework. Only frameworks already imported when ``autolog()`` is
called are patched, so turning autologging on never imports a framework.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

_INSIDE: ContextVar[bool] = ContextVar("kiln_autolog_framework", default=False)
# (owner, attribute name) -> original, for disable()
_PATCHED: dict[tuple[Any, str], Any] = {}
_OPTIONS: dict[str, Any] = {}


def enable(options: dict[str, Any]) -> list[str]:
    """Patch every supported framework already imported; return their names."""
    _OPTIONS.update(options)
    done = []
    for name, patch in (("xgboost", _patch_xgboost), ("lightgbm", _patch_lightgbm),
                        ("keras", _patch_keras)):
        if name in sys.modules:
            patch()
            done.append(name)
    return done


def disable() -> None:
    """Put every patched function back."""
    for (owner, attr), original in _PATCHED.items():
        setattr(owner, attr, original)
    _PATCHED.clear()


def _patch(owner: Any, attr: str, wrapper: Callable[[Any], Any]) -> None:
    if (owner, attr) in _PATCHED:
        return
    original = getattr(owner, attr)
    _PATCHED[(owner, attr)] = original
    setattr(owner, attr, wrapper(original))


def _patch_fits(base: type, wrapper: Callable[[Any], Any]) -> None:
    """Patch ``fit`` on ``base`` and on each subclass that defines its own."""
    todo, seen = [base], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if "fit" in cls.__dict__:
            _patch(cls, "fit", wrapper)


@contextlib.contextmanager
def _run(name: str) -> Iterator[Any]:
    """The active run, or a new one ended (FAILED on error) when the block ends."""
    import kiln

    own = kiln.active_run() is None
    run = kiln.start_run(experiment=_OPTIONS.get("experiment"), name=name) if own \
        else kiln.active_run()
    assert run is not None
    token = _INSIDE.set(True)
    try:
        yield run
    except BaseException as exc:
        if own:
            run.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED",
                    f"{type(exc).__name__}: {exc}")
        raise
    finally:
        _INSIDE.reset(token)
    if own:
        run.end()


def _params(run: Any, params: dict[str, Any], prefix: str = "") -> None:
    from kiln.tracking.validation import MAX_PARAM_VALUE

    clean = {f"{prefix}{k}": str(v) for k, v in params.items()
             if v is not None and len(str(v)) <= MAX_PARAM_VALUE}
    if clean:
        run.workspace.log_params(run.run_id, clean)


def _log_model(run: Any, model: Any, example: Any) -> None:
    if _OPTIONS.get("log_models", True):
        run.workspace.log_model(run.run_id, model, _OPTIONS.get("registered_model_name"),
                                input_example=example)


def _head(data: Any, n: int = 5) -> Any:
    """The first rows of array-like training data, or None (DMatrix, Dataset, generators)."""
    if hasattr(data, "iloc"):
        return data.iloc[:n]
    if hasattr(data, "shape") and hasattr(data, "__getitem__") and len(data.shape) == 2:
        return data[:n]
    return None


# -- XGBoost ------------------------------------------------------------------------------
def _patch_xgboost() -> None:
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    train = _booster_train("xgboost", _xgboost_callback, _xgboost_data)
    for module in (xgboost, xgboost.training, xgboost.sklearn):
        _patch(module, "train", train)
    _patch_fits(xgboost.XGBModel, _sklearn_api_fit("xgboost"))


def _xgboost_callback(run: Any) -> Any:
    from xgboost.callback import TrainingCallback

    class KilnCallback(TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            metrics = {f"{data}-{metric}": float(values[-1])
                       for data, per in evals_log.items() for metric, values in per.items()
                       if values}
            if metrics:
                run.workspace.log_metrics(run.run_id, metrics, epoch)
            return False

    return KilnCallback()


def _xgboost_data(dtrain: Any) -> Any:
    return None  # a DMatrix does not give its rows back cheaply: the booster has no example


# -- LightGBM -----------------------------------------------------------------------------
def _patch_lightgbm() -> None:
    import lightgbm
    import lightgbm.engine
    import lightgbm.sklearn

    train = _booster_train("lightgbm", _lightgbm_callback, _lightgbm_data)
    for module in (lightgbm, lightgbm.engine, lightgbm.sklearn):
        _patch(module, "train", train)
    _patch_fits(lightgbm.LGBMModel, _sklearn_api_fit("lightgbm"))


def _lightgbm_callback(run: Any) -> Any:
    def callback(env: Any) -> None:
        metrics = {f"{item[0]}-{item[1]}": float(item[2])
                   for item in env.evaluation_result_list or []}
        if metrics:
            run.workspace.log_metrics(run.run_id, metrics, env.iteration)

    callback.order = 30  # type: ignore[attr-defined]  # after LightGBM's own evaluation
    return callback


def _lightgbm_data(train_set: Any) -> Any:
    return _head(getattr(train_set, "data", None))


# -- shared by both boosters ------------------------------------------------------------
def _booster_train(framework: str, make_callback: Callable[[Any], Any],
                   example_of: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrap(original: Any) -> Any:
        @functools.wraps(original)
        def train(params: dict[str, Any], train_set: Any, *args: Any, **kwargs: Any) -> Any:
            nested = _INSIDE.get()  # called by the scikit-learn API's fit: it logs the model
            with _run(framework) as run:
                kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), make_callback(run)]
                booster = original(params, train_set, *args, **kwargs)
                _params(run, dict(params or {}))
                if not nested:
                    _log_model(run, booster, example_of(train_set))
            return booster

        train.__kiln_autolog__ = True  # type: ignore[attr-defined]
        return train

    return wrap


def _sklearn_api_fit(framework: str) -> Callable[[Any], Any]:
    def wrap(original: Any) -> Any:
        @functools.wraps(original)
        def fit(self: Any, X: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
            if _INSIDE.get():
                return original(self, X, y, *args, **kwargs)
            with _run(f"{framework}-{type(self).__name__}") as run:
                result = original(self, X, y, *args, **kwargs)
                _params(run, self.get_params())
                run.workspace.set_tag(run.run_id, "kiln.autolog.estimator",
                                      f"{type(self).__module__}.{type(self).__name__}")
                _log_model(run, self, _head(X))
            return result

        return fit

    return wrap


# -- Keras ----------------------------------------------------------------------------------
def _patch_keras() -> None:
    import keras

    _patch(keras.Model, "fit", _keras_fit)


def _keras_fit(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        if _INSIDE.get():
            return original(self, x, y, *args, **kwargs)
        import keras

        class KilnCallback(keras.callbacks.Callback):  # type: ignore[misc]
            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                metrics = {k: float(v) for k, v in (logs or {}).items()
                           if isinstance(v, int | float) or hasattr(v, "__float__")}
                if metrics:
                    run.workspace.log_metrics(run.run_id, metrics, epoch)

        with _run("keras") as run:
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), KilnCallback()]
            history = original(self, x, y, *args, **kwargs)
            optimizer = getattr(self, "optimizer", None)
            params = {"epochs": kwargs.get("epochs", 1), "batch_size": kwargs.get("batch_size"),
                      "optimizer": type(optimizer).__name__ if optimizer is not None else None,
                      "loss": getattr(self, "loss", None)}
            rate = getattr(optimizer, "learning_rate", None)
            if rate is not None:
                with contextlib.suppress(TypeError, ValueError):
                    params["learning_rate"] = float(keras.ops.convert_to_numpy(rate))
            _params(run, params)
            _log_model(run, self, _head(x))
        return history

    fit.__kiln_autolog__ = True  # type: ignore[attr-defined]
    return fit
