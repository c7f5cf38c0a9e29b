"""Evaluation data as accepted everywhere in governance: a DataFrame, a CSV/Parquet path, or a
callable returning a DataFrame. A later data-versioning subsystem can add its references here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

DataSource = Union["pd.DataFrame", str, Path, Callable[[], "pd.DataFrame"]]
ACCEPTED = "a pandas DataFrame, a .csv or .parquet path, or a callable returning a DataFrame"


def load_frame(data: Any, base: Path | None = None) -> pd.DataFrame:
    """The DataFrame behind ``data`` (paths are relative to ``base`` when given)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | Path):
        path = Path(data)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.exists():
            raise NotFoundError(f"evaluation data {str(data)!r} does not exist (looked at {path})")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(path)
            except ImportError:
                raise InvalidArgumentError(
                    f"reading {str(data)!r} needs a Parquet engine: pip install pyarrow"
                ) from None
        raise InvalidArgumentError(
            f"evaluation data {str(data)!r} has suffix {suffix!r}; accepted: .csv, .parquet"
        )
    if callable(data):
        frame = data()
        if not isinstance(frame, pd.DataFrame):
            raise InvalidArgumentError(
                f"evaluation data callable returned {type(frame).__name__}; it must return a "
                "pandas DataFrame"
            )
        return frame
    raise InvalidArgumentError(f"evaluation data of type {type(data).__name__} is not "
                               f"accepted; give {ACCEPTED}")


def describe_source(data: Any) -> str:
    """A short name for where data came from, for records and cards."""
    if isinstance(data, str | Path):
        return str(data)
    if callable(data) and not hasattr(data, "columns"):
        return getattr(data, "__qualname__", "callable")
    return "DataFrame"
