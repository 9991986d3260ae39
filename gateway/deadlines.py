"""A deadline over the waits of a stream that yields between them.

A lane reads a back end's events one at a time and hands each on before it reads the next, so
only its waits for the back end may be cut short, never what the reader does with an event.
``asyncio.timeout`` around each wait does that, but it starts and stops a timer for every
event (some 10 µs with uvloop; a language model sends an event a token), and a single
``asyncio.timeout`` around the whole stream would cancel the reader's own work too. A
:class:`Deadline` keeps one timer for as long as its time does not change: when it fires
during a wait, that wait ends in ``TimeoutError``; when it fires in between, the next wait
does, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import TypeVar

__all__ = ["Deadline"]

T = TypeVar("T")


class Deadline:
    """``when`` on the running loop's clock; :meth:`move` sets another."""

    def __init__(self, when: float) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always awaited in a task
            raise RuntimeError("a Deadline is used inside a task")
        self._task = task
        self._waiting = False
        self._cancelled = False  # the timer cancelled the task (and nobody else did)
        self.expired = False
        self._handle = self._loop.call_at(when, self._expire)

    def move(self, when: float) -> None:
        """Give the waits from now on until ``when`` (the deadline has not expired)."""
        self._handle.cancel()
        self._handle = self._loop.call_at(when, self._expire)

    def cancel(self) -> None:
        """No more waits: stop the timer."""
        self._handle.cancel()

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``awaitable``'s result, or ``TimeoutError`` once the deadline has passed. A
        cancellation from elsewhere stays a cancellation."""
        if self.expired:
            if isinstance(awaitable, Coroutine):
                awaitable.close()  # never to be awaited: no "never awaited" warning
            raise TimeoutError
        self._waiting = True
        cancelling = self._task.cancelling()
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._cancelled and self._task.uncancel() <= cancelling:
                raise TimeoutError from None
            raise
        finally:
            self._waiting = False

    def _expire(self) -> None:
        self.expired = True
        if self._waiting:
            self._cancelled = True
            self._task.cancel()
