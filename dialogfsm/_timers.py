"""A deadline heap with lazy cancellation, for ``get_timer()`` / ``handle_timer(now)``.

Entries are never removed when their object goes away: ``live`` says whether an entry still
counts, and the heap is rebuilt without dead entries whenever they outnumber the live ones,
so a flood of short-lived dialogs cannot grow it without bound.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TimerHeap(Generic[T]):
    """Deadlines in seconds, each with a payload; ``live(payload)`` filters cancelled ones."""

    def __init__(self, live: Callable[[T], bool]) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._live = live
        self._seq = 0
        self._dead = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, deadline: float, payload: T) -> None:
        """Schedule ``payload`` at ``deadline``."""
        self._seq += 1
        heapq.heappush(self._heap, (deadline, self._seq, payload))

    def cancelled(self) -> None:
        """Note that one entry died (its payload is no longer live); compacts when due."""
        self._dead += 1
        if self._dead > 64 and self._dead * 2 > len(self._heap):
            self._heap = [e for e in self._heap if self._live(e[2])]
            heapq.heapify(self._heap)
            self._dead = 0

    def earliest(self) -> float | None:
        """The earliest deadline in the heap, live or not: no live one comes sooner. A
        cheap answer to "is anything due yet?" for callers that ask at every message."""
        heap = self._heap
        return heap[0][0] if heap else None

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or ``None``."""
        heap = self._heap
        while heap and not self._live(heap[0][2]):
            heapq.heappop(heap)
            self._dead = max(0, self._dead - 1)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> list[T]:
        """Live payloads whose deadline is ``now`` or earlier, earliest first."""
        heap = self._heap
        due: list[T] = []
        while heap and heap[0][0] <= now:
            payload = heapq.heappop(heap)[2]
            if self._live(payload):
                due.append(payload)
            else:
                self._dead = max(0, self._dead - 1)
        return due
