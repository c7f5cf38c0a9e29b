"""The production online store: Redis, one string key per (view, entity), MGET reads.

Values are stored as ``<event_ms>|<value>``; a Lua script applies a batch
atomically and keeps a newer row over an older one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kiln.exceptions import ConfigError, StoreUnavailableError

_WRITE = """
for i = 1, #KEYS do
  local new = ARGV[i]
  local ts = tonumber(string.match(new, '^(%-?%d+)|'))
  local cur = redis.call('GET', KEYS[i])
  local keep = false
  if cur then
    local cts = tonumber(string.match(cur, '^(%-?%d+)|'))
    if cts and cts > ts then keep = true end
  end
  if not keep then redis.call('SET', KEYS[i], new) end
end
return #KEYS
"""
_BATCH = 1000


class RedisOnlineStore:
    """An :class:`~kiln.features.online.base.OnlineStore` in Redis.

    ``redis://HOST:PORT/DB?prefix=kiln:`` — every key starts with the prefix
    (default ``kiln:``), so several projects can share one Redis.
    """

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigError(
                f"online store {url!r} needs the Redis client: pip install 'kiln[features]'"
            ) from None
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.prefix = query.pop("prefix", "kiln:")
        self.url = url
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        try:
            self._redis: Any = redis.Redis.from_url(plain, socket_connect_timeout=5)
        except ValueError as exc:
            raise ConfigError(f"online store URL {url!r} is not accepted: {exc}") from None
        self._script: Any = None

    def _key(self, view: str, key: str) -> str:
        return f"{self.prefix}{view}:{key}"

    def _call(self, fn: Any, *args: Any) -> Any:
        import redis

        try:
            return fn(*args)
        except redis.ConnectionError as exc:
            raise StoreUnavailableError(
                f"cannot reach online store {self.url}: {exc}"
            ) from None

    def write_batch(self, view: str, rows: Sequence[tuple[str, int, bytes]]) -> None:
        if not rows:
            return
        if self._script is None:
            self._script = self._redis.register_script(_WRITE)
        for i in range(0, len(rows), _BATCH):
            chunk = rows[i:i + _BATCH]
            self._call(self._script, [self._key(view, k) for k, _, _ in chunk],
                       [b"%d|%b" % (ts, v) for _, ts, v in chunk])

    def read(self, view: str, keys: Sequence[str]) -> list[tuple[int, bytes] | None]:
        if not keys:
            return []
        raw = self._call(self._redis.mget, [self._key(view, k) for k in keys])
        out: list[tuple[int, bytes] | None] = []
        for item in raw:
            if item is None:
                out.append(None)
            else:
                ts, _, value = item.partition(b"|")
                out.append((int(ts), value))
        return out

    def drop_view(self, view: str) -> None:
        pattern = self._key(view, "*")
        batch: list[bytes] = []
        for key in self._call(self._redis.scan_iter, pattern, 1000):
            batch.append(key)
            if len(batch) >= _BATCH:
                self._redis.delete(*batch)
                batch.clear()
        if batch:
            self._redis.delete(*batch)

    def delete(self, view: str, keys: Sequence[str]) -> int:
        done = 0
        for i in range(0, len(keys), _BATCH):
            chunk = [self._key(view, k) for k in keys[i:i + _BATCH]]
            done += int(self._call(self._redis.delete, *chunk)) if chunk else 0
        return done

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisOnlineStore({self.url!r})"
