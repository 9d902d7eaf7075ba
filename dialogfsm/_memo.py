"""Bounded memo tables: what the parser, URIs and route sets remember, and how they forget.

A ``Memo`` is a dict that empties itself when it reaches its limit. Emptying at once costs
one pass over what it held, amortised over the ``limit`` insertions before it; it needs no
bookkeeping per hit (an LRU list would), and a flood of distinct keys can never grow it.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict of at most ``limit`` entries, emptied when full; ``cache_clear`` empties it
    too (the memo interface of ``functools.lru_cache``, which the benchmarks use)."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (first forgetting everything when full)."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value

    def cache_clear(self) -> None:
        """Forget every entry."""
        self.clear()
