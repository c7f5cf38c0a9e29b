"""Finding a pipeline by reference: ``package.module:function`` or ``path/file.py:function``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.pipelines.dsl import Pipeline


def load_pipeline(ref: str) -> Pipeline:
    """The :class:`~kiln.pipelines.dsl.Pipeline` named by ``ref``."""
    from kiln.pipelines.dsl import Pipeline

    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"pipeline reference {ref!r} is not accepted; use MODULE:FUNCTION or FILE.py:FUNCTION")
    module = import_module(module_name)
    target: object = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            found = sorted(n for n, v in vars(module).items() if isinstance(v, Pipeline))
            raise InvalidArgumentError(
                f"module {module_name!r} has no pipeline {attr!r}; pipelines in it: "
                f"{', '.join(found) or 'none'}")
    if not isinstance(target, Pipeline):
        raise InvalidArgumentError(
            f"{ref!r} is a {type(target).__name__}, not a pipeline; decorate it with @pipeline")
    return target


def import_module(name: str) -> object:
    """Import a module by dotted name or file path; one clear error when it does not import."""
    if name.endswith(".py") or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise InvalidArgumentError(f"pipeline file {name!r} does not exist")
        mod_name = path.stem
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise InvalidArgumentError(f"pipeline file {name!r} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        sys.path.insert(0, str(path.parent.resolve()))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise InvalidArgumentError(
                f"pipeline file {name!r} does not import: {type(exc).__name__}: {exc}") from None
        return module
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise InvalidArgumentError(
            f"module {name!r} does not import: {type(exc).__name__}: {exc}") from None
