"""The public surface: exactly the curated names, and a light ``import kiln``."""

from __future__ import annotations

import subprocess
import sys

import kiln
import kiln.exceptions

EXPECTED = {
    "ActiveRun", "KilnError", "Settings", "Workspace", "__version__", "active_run", "autolog",
    "data", "delete_alias", "end_run", "evaluate", "features", "get_metric_history",
    "get_model_version", "get_run", "get_workspace", "infer_signature", "load_model",
    "log_artifact", "log_input", "log_metric", "log_metrics", "log_model", "log_param",
    "log_params", "log_text", "pipeline", "search_runs", "set_alias", "set_tag", "set_tags",
    "set_workspace", "start_run", "step", "sweep", "train", "use_workspace",
}


def test_exported_names_are_exactly_the_public_ones() -> None:
    assert set(kiln.__all__) == EXPECTED
    for name in kiln.__all__:
        assert getattr(kiln, name) is not None


def test_exceptions_share_one_base() -> None:
    for name in kiln.exceptions.__all__:
        assert issubclass(getattr(kiln.exceptions, name), kiln.exceptions.KilnError)


def test_import_kiln_loads_no_heavy_dependency() -> None:
    code = ("import sys, kiln; heavy = [m for m in ('sqlalchemy', 'pandas', 'numpy', 'sklearn', "
            "'alembic', 'rich', 'click') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_subsystems_are_lazy_submodules() -> None:
    import types

    assert isinstance(kiln.data, types.ModuleType)
    assert callable(kiln.autolog) and callable(kiln.data.add)
