"""Requests that queue behind one in flight, taken together.

While a unit of work for a key runs in this process, the requests for the same key that arrive
wait; when it ends, the next unit takes all of them at once. For a key that is one row (a sale
order) the row is locked, and the transaction committed, once for the lot instead of once a
request, so a row many clients write at the same moment is held for less time per request; for a
key that is a kind of work (the adds to any order) the lot shares a transaction. A request for a
key with nothing in flight runs at once: batching adds no wait where there is no queue.

`run` answers a batch with one result per item, in order, or fails as a whole (nothing of it is
written). Then each item runs again on its own, so every request gets the answer it would have had
alone; unless the failure is one each of them would meet too (`final`). Where a key is one row
(`shared_fate`), such a failure of a whole batch is also the answer of the requests queued behind
it: a lock held elsewhere that the batch waited for through every retry is held still, and they
would otherwise each wait the whole time again, batch by batch.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")

Run = Callable[[list[I]], Awaitable[list[R]]]


@dataclass(frozen=True)
class Queued(Generic[I, R]):
    item: I
    run: Run[I, R]
    future: asyncio.Future[R]


# Bounds one transaction's length: later arrivals wait for the next batch.
MAX_BATCH = 32


def _one(_: object) -> int:
    return 1


class Coalescer(Generic[K, I, R]):
    """One per process. Each batch runs in a task of its own, so a request that is cancelled while
    it waits (its client hung up) never stops the others' batch. A batch runs with the `run` of
    its first request. A batch holds at most MAX_BATCH requests, or, where a request is itself several
    (`size`), as many as add up to MAX_BATCH (one at least)."""

    def __init__(
        self,
        final: Callable[[Exception], bool] = lambda _: False,
        size: Callable[[I], int] = _one,
        *,
        shared_fate: bool = False,
    ) -> None:
        self._final = final
        self._size = size
        self._shared_fate = shared_fate
        self._queued: dict[K, list[Queued[I, R]]] = {}
        self._draining: dict[K, asyncio.Task[None]] = {}

    def waiting(self, key: K) -> int:
        """How many requests for `key` wait for the next batch."""
        return len(self._queued.get(key, ()))

    async def submit(self, key: K, item: I, run: Run[I, R]) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(key, []).append(Queued(item, run, future))
        if key not in self._draining:
            # A context of its own: the drain serves every request queued for the key, not the first.
            self._draining[key] = asyncio.create_task(self._drain(key), context=contextvars.Context())
        return await future

    async def _drain(self, key: K) -> None:
        batch: list[Queued[I, R]] = []
        try:
            while queued := self._queued.pop(key, None):
                taken = self._taken(queued)
                batch, rest = queued[:taken], queued[taken:]
                if rest:
                    self._queued[key] = rest
                outcomes, failed = await self._outcomes(batch[0].run, [entry.item for entry in batch])
                if failed is not None and self._shared_fate:
                    batch += self._queued.pop(key, [])
                    outcomes = [failed] * len(batch)
                for entry, outcome in zip(batch, outcomes, strict=True):
                    if entry.future.done():  # its request was cancelled
                        continue
                    if isinstance(outcome, Exception):
                        entry.future.set_exception(outcome)
                    else:
                        entry.future.set_result(outcome)
        finally:
            del self._draining[key]
            # Only when the task itself is cancelled (the process stops): no request waits forever.
            for entry in batch + self._queued.pop(key, []):
                if not entry.future.done():
                    entry.future.cancel()

    def _taken(self, queued: list[Queued[I, R]]) -> int:
        """How many of the queued requests, from the first, the next batch takes."""
        total = 0
        for taken, entry in enumerate(queued):
            total += self._size(entry.item)
            if total > MAX_BATCH:
                return max(taken, 1)
        return len(queued)

    async def _outcomes(self, run: Run[I, R], items: list[I]) -> tuple[list[R | Exception], Exception | None]:
        """Each item's answer, and the final failure the items met as one batch, if they did."""
        try:
            return list(await run(items)), None
        except Exception as error:
            if self._final(error):
                return [error] * len(items), error
            if len(items) == 1:
                return [error], None
        # Nothing of the batch was written: each item on its own gets the answer it would have had.
        alone = await asyncio.gather(*(self._outcomes(run, [item]) for item in items))
        return [outcome for (outcome,), _ in alone], None
