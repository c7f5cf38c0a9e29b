"""Reading tabular files (Parquet, CSV, JSON lines) into pandas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from kiln.exceptions import ConfigError, InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

TABULAR = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
           ".ndjson": "jsonl"}


def is_tabular(name: str) -> bool:
    """Whether kiln reads a file of this name as a table."""
    return Path(name).suffix.lower() in TABULAR


def read_table(path: Path | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read ``path`` as a table; its format is taken from ``name`` (default: the path)."""
    import pandas as pd

    fmt = TABULAR.get(Path(name or str(path)).suffix.lower())
    where = name or str(path)
    try:
        if fmt == "parquet":
            try:
                return pd.read_parquet(path)
            except ImportError:
                raise ConfigError(
                    "reading Parquet needs pyarrow: pip install 'kiln[data]'"
                ) from None
        if fmt == "csv":
            return pd.read_csv(path)
        if fmt == "jsonl":
            return pd.read_json(path, lines=True)
    except (ValueError, OSError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise InvalidArgumentError(
            f"{where} cannot be read as {fmt}: {str(exc).splitlines()[0]}"
        ) from None
    raise InvalidArgumentError(
        f"{where} is not a table; accepted: {', '.join(sorted(TABULAR))}"
    )
