"""The functions behind ``kiln.data``: the default workspace's data versions and validation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.data.schema import Schema
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.data.client import DataStatus
    from kiln.data.compare import DataDiff
    from kiln.data.validation import Thresholds, ValidationReport
    from kiln.entities import DatasetVersion


def _ws() -> Any:
    from kiln.fluent import get_workspace

    return get_workspace()


def add(path: str | os.PathLike[str], name: str | None = None, *,
        description: str = "") -> DatasetVersion:
    """Snapshot a file or directory as a new version of dataset ``name`` and write
    ``PATH.kiln``. Equal content to the latest version returns that version.

    >>> # dv = kiln.data.add("data/train.parquet", name="train")
    """
    dv: DatasetVersion = _ws().add_dataset(path, name, description=description)
    return dv


def load(ref: str | DatasetVersion) -> pd.DataFrame | Path:
    """``"NAME"``, ``"NAME@3"`` or ``"NAME@latest"`` as a DataFrame (one tabular file) or
    a local path (anything else). Inside an active run, records the run's input."""
    from kiln.fluent import active_run

    run = active_run()
    ws = run.workspace if run is not None else _ws()
    dv = ws.dataset_version(ref)
    data: pd.DataFrame | Path = ws.load_dataset(dv)
    if run is not None:
        ws.log_input(run.run_id, dv)
    return data


def get(ref: str | DatasetVersion, dest: str | os.PathLike[str]) -> Path:
    """Write version ``ref`` into folder ``dest``; returns the written file or folder."""
    out: Path = _ws().get_dataset(ref, dest)
    return out


def pull(pointer: str | os.PathLike[str]) -> int:
    """Restore the data a pointer file (``PATH.kiln``) names; returns files written."""
    written: int = _ws().pull(pointer)
    return written


def status(path: str | os.PathLike[str]) -> DataStatus:
    """How ``path`` differs from the version its pointer file names."""
    result: DataStatus = _ws().data_status(path)
    return result


def versions(name: str) -> list[DatasetVersion]:
    """Every version of dataset ``name``, oldest first."""
    out: list[DatasetVersion] = _ws().dataset_versions(name)
    return out


def diff(a: str | DatasetVersion, b: str | DatasetVersion) -> DataDiff:
    """What changed between two versions (files; for tables schema and statistics)."""
    out: DataDiff = _ws().diff_datasets(a, b)
    return out


def validate(df: pd.DataFrame | str | DatasetVersion,
             schema: Schema | dict[str, Any] | str | os.PathLike[str] | None = None, *,
             reference: pd.DataFrame | str | DatasetVersion | None = None,
             thresholds: Thresholds | None = None) -> ValidationReport:
    """Validate ``df`` (a frame or a dataset reference) against ``schema`` (a Schema, its
    dict, or a YAML file; default: the reference version's stored schema, else inferred
    from the reference) and drift against ``reference`` (a frame or a dataset reference).
    The report of a dataset reference is stored with that version.
    """
    import pandas as pd

    from kiln.data.validation import validate as run_validation

    ws = None
    frame: pd.DataFrame
    version = None
    if isinstance(df, pd.DataFrame):
        frame = df
    else:
        ws = _ws()
        version = ws.dataset_version(df)
        frame = ws.dataset_frame(version)
    ref_frame: pd.DataFrame | None = None
    if reference is not None and not isinstance(reference, pd.DataFrame):
        ws = ws or _ws()
        ref_version = ws.dataset_version(reference)
        if schema is None and ref_version.schema:
            schema = Schema.from_dict(ref_version.schema, f"schema of {ref_version.ref}")
        ref_frame = ws.dataset_frame(ref_version)
    elif reference is not None:
        ref_frame = reference
    report = run_validation(frame, _as_schema(schema), reference=ref_frame,
                            thresholds=thresholds)
    if version is not None and ws is not None:  # stored with it: gates and cards read it
        from kiln.data.validations import record_validation

        against = reference if isinstance(reference, str) else (
            None if reference is None or isinstance(reference, pd.DataFrame) else reference.ref)
        record_validation(ws, version, report, against)
    return report


def _as_schema(schema: Schema | dict[str, Any] | str | os.PathLike[str] | None
               ) -> Schema | None:
    if schema is None or isinstance(schema, Schema):
        return schema
    if isinstance(schema, dict):
        return Schema.from_dict(schema)
    path = Path(schema)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidArgumentError(f"schema file {str(path)!r} cannot be read: "
                                   f"{exc.strerror}") from None
    return Schema.from_yaml(text, source=f"schema file {str(path)!r}")
