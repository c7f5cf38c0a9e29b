"""Picking a route: a weighted split, sticky per request key; the canary's health window."""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import deque
from collections.abc import Sequence

from kiln.entities import CanaryPolicy


class WeightedChoice:
    """Chooses index ``i`` with probability ``weights[i] / sum(weights)``; a ``key`` always
    maps to the same index for the same weights (hash of the key, not a random draw)."""

    def __init__(self, weights: Sequence[float]) -> None:
        self.cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += max(float(w), 0.0)
            self.cumulative.append(total)
        self.total = total
        self._random = random.Random()

    def choose(self, key: str | None = None) -> int:
        if key is None:
            point = self._random.random() * self.total
        else:
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            point = int.from_bytes(digest, "big") / 2**64 * self.total
        i = bisect.bisect_right(self.cumulative, point)
        # weight-0 routes own no interval; guard the float edge at the very top
        return min(i, len(self.cumulative) - 1)


class CanaryWindow:
    """The last ``window`` outcomes of the canary route; ``breached()`` says why it must go."""

    def __init__(self, policy: CanaryPolicy) -> None:
        self.policy = policy
        self.outcomes: deque[tuple[bool, float]] = deque(maxlen=policy.window)
        self.tripped = False

    def record(self, ok: bool, latency_ms: float) -> str | None:
        """Add one outcome; the first time the policy is breached, return the reason."""
        self.outcomes.append((ok, latency_ms))
        if self.tripped or len(self.outcomes) < self.policy.min_requests:
            return None
        n = len(self.outcomes)
        errors = sum(1 for good, _ in self.outcomes if not good)
        rate = errors / n
        if rate > self.policy.max_error_rate:
            self.tripped = True
            return (f"error rate {rate:.1%} over the last {n} requests exceeds "
                    f"{self.policy.max_error_rate:.1%}")
        latencies = sorted(lat for _, lat in self.outcomes)
        p95 = latencies[min(int(0.95 * n), n - 1)]
        if p95 > self.policy.max_latency_ms:
            self.tripped = True
            return (f"p95 latency {p95:.1f} ms over the last {n} requests exceeds "
                    f"{self.policy.max_latency_ms:.1f} ms")
        return None
