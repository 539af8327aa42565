"""Rate limiting: a token bucket per caller (a key, a widget visitor, an address), held in memory.

A bucket holds up to ``per_minute`` tokens and refills continuously at ``per_minute / 60`` a
second, so a client may burst up to its minute's allowance and then proceeds at the steady rate.
State is per process: with ``--workers N`` each worker counts on its own, so the effective limit is
up to N times the setting (a shared store would be needed to do better; not worth it here).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# Buckets idle this long are full again and can be forgotten (keeps per-IP buckets bounded).
_IDLE_SECONDS = 600.0


class RateLimiter:
    """Token buckets keyed by caller identity."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last update)
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def acquire(self, key: str, per_minute: int) -> float:
        """Take one token for ``key``: 0.0 if allowed, else the seconds to wait (Retry-After)."""
        if per_minute <= 0:
            return 0.0  # a limit of 0 means unlimited
        rate = per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / rate
            if now - self._last_sweep > _IDLE_SECONDS:
                self._sweep(now)
        return wait

    def waiting(self, key: str, per_minute: int) -> float:
        """Seconds until ``key`` has a token again (0.0 if it has one now), taking none."""
        if per_minute <= 0:
            return 0.0
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(per_minute), self._clock()))
            tokens = min(float(per_minute), tokens + (self._clock() - last) * rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate

    def _sweep(self, now: float) -> None:
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < _IDLE_SECONDS}
        self._last_sweep = now


def retry_after(wait: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
