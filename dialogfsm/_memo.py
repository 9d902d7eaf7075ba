"""Bounded memo tables: what the parser, URIs and route sets remember, and how they forget.

A ``Memo`` is a dict that empties itself when it reaches its limit. Emptying at once costs
one pass over what it held, amortised over the ``limit`` insertions before it; it needs no
bookkeeping per hit (an LRU list would), and a flood of distinct keys can never grow it.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _Clearable(Protocol):
    def cache_clear(self) -> None: ...


C = TypeVar("C", bound=_Clearable)
#: every bounded cache of the package, for :func:`clear_caches`
_CACHES: list[_Clearable] = []


def bounded(cache: C) -> C:
    """Register one of the package's bounded caches (a :class:`Memo` or a
    ``functools.lru_cache``) with :func:`clear_caches`; return it."""
    _CACHES.append(cache)
    return cache


def clear_caches() -> None:
    """Empty every memo table and LRU cache of dialogfsm's parser, URIs and route sets.

    They are bounded, so this is never needed for correctness or to stop growth. It is for
    measurements: the tables fill and empty as traffic goes by, so memory taken at two
    moments differs by up to their bound unless they are emptied first.
    """
    for cache in _CACHES:
        cache.cache_clear()


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
