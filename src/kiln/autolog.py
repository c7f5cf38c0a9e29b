"""``kiln.autolog()``: log scikit-learn training without touching the training code.

Every ``fit`` of a scikit-learn estimator (outside another patched ``fit``)
records its parameters, training metrics and the fitted model on the active
run, or on a new run when none is active. XGBoost, LightGBM and Keras training,
when those are imported, is logged per iteration (``kiln.tracking.autolog_frameworks``).
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

_IN_FIT: ContextVar[bool] = ContextVar("kiln_autolog_in_fit", default=False)
_PATCHED: dict[type, Any] = {}
_OPTIONS: dict[str, Any] = {}


def autolog(
    *,
    log_models: bool = True,
    registered_model_name: str | None = None,
    experiment: str | None = None,
    disable: bool = False,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    >>> import kiln
    >>> kiln.autolog()  # doctest: +SKIP
    >>> LogisticRegression().fit(X, y)  # a run with params, training metrics and the model
    """
    from kiln.tracking import autolog_frameworks

    if disable:
        autolog_frameworks.disable()
        for cls, original in _PATCHED.items():
            setattr(cls, "fit", original)  # noqa: B010 - classes are only known at run time
        _PATCHED.clear()
        return
    _OPTIONS.update(
        log_models=log_models, registered_model_name=registered_model_name, experiment=experiment
    )
    for cls in _estimator_classes():
        if cls not in _PATCHED and "fit" in cls.__dict__:
            _PATCHED[cls] = cls.__dict__["fit"]
            setattr(cls, "fit", _patched_fit(cls.__dict__["fit"]))  # noqa: B010
    autolog_frameworks.enable(dict(_OPTIONS))


def _estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    return [cls for _, cls in all_estimators()] + [Pipeline, GridSearchCV, RandomizedSearchCV]


def _patched_fit(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _IN_FIT.get():
            return original(self, *args, **kwargs)
        token = _IN_FIT.set(True)
        try:
            return _fit_and_log(original, self, args, kwargs)
        finally:
            _IN_FIT.reset(token)

    fit.__kiln_autolog__ = True  # type: ignore[attr-defined]
    return fit


def _fit_and_log(original: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                 ) -> Any:
    import kiln

    own = kiln.active_run() is None
    run = kiln.start_run(experiment=_OPTIONS.get("experiment"),
                         name=type(estimator).__name__) if own else kiln.active_run()
    assert run is not None
    try:
        result = original(estimator, *args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        run.workspace.log_params(run.run_id, _params(estimator))
        run.workspace.log_batch(run.run_id, metrics=_training_metrics(estimator, X, y))
        run.workspace.set_tag(run.run_id, "kiln.autolog.estimator",
                              f"{type(estimator).__module__}.{type(estimator).__name__}")
        if _OPTIONS.get("log_models", True):
            example = X[:5] if X is not None and hasattr(X, "__getitem__") else None
            run.workspace.log_model(run.run_id, estimator, _OPTIONS.get("registered_model_name"),
                                    input_example=example)
    except BaseException as exc:
        if own:
            run.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED",
                    f"{type(exc).__name__}: {exc}")
        raise
    if own:
        run.end()
    return result


def _params(estimator: Any) -> dict[str, str]:
    from kiln.tracking.validation import MAX_PARAM_VALUE

    out = {}
    for key, value in estimator.get_params(deep=True).items():
        text = str(value)
        if len(text) <= MAX_PARAM_VALUE:
            out[key.replace("__", ".")] = text
    return out


def _training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if y is None or X is None or not hasattr(estimator, "predict"):
        return {}
    pred = estimator.predict(X)
    if is_classifier(estimator):
        out = {
            "training_accuracy": metrics.accuracy_score(y, pred),
            "training_f1": metrics.f1_score(y, pred, average="weighted"),
            "training_precision": metrics.precision_score(y, pred, average="weighted",
                                                          zero_division=0),
            "training_recall": metrics.recall_score(y, pred, average="weighted"),
        }
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            out["training_log_loss"] = metrics.log_loss(y, proba)
            if proba.shape[1] == 2:
                out["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
        return {k: float(v) for k, v in out.items()}
    if is_regressor(estimator):
        return {
            "training_mse": float(metrics.mean_squared_error(y, pred)),
            "training_mae": float(metrics.mean_absolute_error(y, pred)),
            "training_r2": float(metrics.r2_score(y, pred)),
        }
    return {}
