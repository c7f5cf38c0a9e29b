"""What a sweep found: best trial, trial counts, parameter importance, and plots."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import NotFoundError

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from kiln.workspace import Workspace

STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The best complete trial, or ``None`` before any trial completed."""
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return None
    return study.best_trial


class Sweep:
    """A sweep by name: its study, the best trial and a summary.

    >>> # sweep = kiln.sweep(train, space={"lr": {"type": "float", "low": 0.01, "high": 1}})
    >>> # sweep.best_params, sweep.best_value, sweep.best_run_id
    """

    def __init__(self, name: str, workspace: Workspace | None = None, *,
                 store: object = None) -> None:
        from kiln import fluent
        from kiln.sweeps.storage import journal_storage

        self.name = name
        self.workspace: Workspace | None = None
        if store is None:
            self.workspace = workspace or fluent.get_workspace()
            store = self.workspace.store
        storage = journal_storage(store, name)
        if name not in {s.study_name for s in storage.get_all_studies()}:
            known = ", ".join(list_sweeps(store)[:10]) or "none"
            raise NotFoundError(f"sweep {name!r} does not exist; sweeps: {known}")
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.load_study(study_name=name, storage=storage)

    def __repr__(self) -> str:
        return f"Sweep({self.name!r}, counts={self.counts()})"

    @property
    def config(self) -> dict[str, Any]:
        from kiln.sweeps.runner import CONFIG_ATTR

        config: dict[str, Any] = self.study.user_attrs.get(CONFIG_ATTR, {})
        return config

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    @property
    def best_trial(self) -> FrozenTrial | None:
        return best_trial(self.study)

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best_trial
        return dict(best.params) if best else {}

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return best.value if best else None

    @property
    def best_run_id(self) -> str | None:
        from kiln.sweeps.runner import trial_run_id

        best = self.best_trial
        return trial_run_id(best) if best else None

    @property
    def parent_run_ids(self) -> list[str]:
        from kiln.sweeps.runner import PARENTS_ATTR

        return list(self.study.user_attrs.get(PARENTS_ATTR, []))

    def counts(self) -> dict[str, int]:
        """Trials by state; ``INTERRUPTED`` counts failed trials whose driver stopped
        (they ran again), apart from ``FAIL`` (the train function raised)."""
        from kiln.sweeps.runner import INTERRUPTED_ATTR

        counts = dict.fromkeys((*STATES, "INTERRUPTED"), 0)
        for t in self.trials:
            key = "INTERRUPTED" if t.system_attrs.get(INTERRUPTED_ATTR) else t.state.name
            counts[key] = counts.get(key, 0) + 1
        return counts

    def importance(self) -> dict[str, float]:
        """Each parameter's importance (Optuna's fANOVA, summing to 1); ``{}`` until two
        trials completed with different parameters."""
        import optuna

        try:
            return {k: float(v) for k, v in optuna.importance.get_param_importances(
                self.study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            ).items()}
        except (RuntimeError, ValueError):
            return {}

    def summary(self) -> dict[str, Any]:
        """Everything ``kiln sweep show`` prints, as JSON-ready data."""
        from kiln.sweeps.runner import trial_run_id

        best = self.best_trial
        return {
            "name": self.name,
            "metric": self.config.get("metric"),
            "direction": self.config.get("direction"),
            "sampler": self.config.get("sampler"),
            "pruner": self.config.get("pruner"),
            "target": self.config.get("target"),
            "counts": self.counts(),
            "best": None if best is None else {
                "trial": best.number, "value": best.value, "params": best.params,
                "run_id": trial_run_id(best),
            },
            "importance": self.importance(),
            "parent_run_ids": self.parent_run_ids,
            "trials": [
                {"trial": t.number, "state": t.state.name, "value": t.value,
                 "params": t.params, "run_id": trial_run_id(t),
                 "last_step": t.last_step}
                for t in self.trials
            ],
        }

    def figures(self, with_importance: bool = True) -> list[Any]:
        """Plotly figures: optimization history, parallel coordinates and (when known)
        parameter importance; none before a trial completed."""
        import optuna.visualization as vis

        if not self.counts()["COMPLETE"]:
            return []
        figures = [vis.plot_optimization_history(self.study),
                   vis.plot_parallel_coordinate(self.study)]
        if with_importance and self.importance():
            figures.append(vis.plot_param_importances(self.study))
        return figures

    def to_html(self) -> str:
        """One self-contained page: summary, parallel coordinates, optimization history and
        importance (plotly, its JavaScript embedded: no network needed)."""
        summary = self.summary()
        figures = self.figures()
        plots = "".join(
            f"<div class=plot>{fig.to_html(full_html=False, include_plotlyjs=(i == 0))}</div>"
            for i, fig in enumerate(figures)
        ) or "<p>No trial has completed yet: nothing to plot.</p>"
        best = summary["best"]
        best_html = "<p>No complete trial yet.</p>" if best is None else (
            f"<p>Best trial <b>#{best['trial']}</b>: {_e(summary['metric'])} = "
            f"<b>{_fmt(best['value'])}</b>, run <code>{_e(best['run_id'])}</code></p>"
            "<table><tr><th>parameter</th><th>value</th></tr>"
            + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>"
                      for k, v in best["params"].items()) + "</table>")
        counts = ", ".join(f"{v} {k.lower()}" for k, v in summary["counts"].items() if v)
        return (
            "<!doctype html><meta charset=utf-8>"
            f"<title>Sweep {_e(self.name)}</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
            f"<h1>Sweep {_e(self.name)}</h1>"
            f"<p>{_e(summary['direction'])} {_e(summary['metric'])}; sampler "
            f"{_e(summary['sampler'])}, pruner {_e(summary['pruner'])}; trials: {counts}.</p>"
            f"{best_html}{plots}"
        )

    def write_html(self, path: str | Path) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.to_html())
        return out


def list_sweeps(source: Workspace | object) -> list[str]:
    """Names of the sweeps in a workspace's store (or a store), oldest first."""
    from kiln.sweeps.storage import sweep_store

    return [name for name, _ in sweep_store(source).list_sweeps()]


def _fmt(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.6g}"


def _e(value: Any) -> str:
    return html.escape(str(value))
