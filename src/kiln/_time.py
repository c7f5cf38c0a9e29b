"""Clock helpers: kiln stores times as integer milliseconds since the epoch."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
