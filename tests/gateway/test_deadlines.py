"""gateway/deadlines.py: only waits are cut short, never what the reader does in between."""

from __future__ import annotations

import asyncio

import pytest

from gateway.deadlines import Deadline

pytestmark = pytest.mark.anyio


async def test_a_wait_past_the_deadline_ends_in_timeout_error() -> None:
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop.time() + 0.05)
    started = loop.time()
    with pytest.raises(TimeoutError):
        await deadline.wait(asyncio.sleep(5))
    assert loop.time() - started < 2
    deadline.cancel()


async def test_the_readers_own_work_is_not_cut_and_the_next_wait_fails_at_once() -> None:
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop.time() + 0.05)
    assert await deadline.wait(asyncio.sleep(0, "first")) == "first"
    await asyncio.sleep(0.15)  # the reader handles the event past the deadline: not cancelled
    assert deadline.expired
    started = loop.time()
    with pytest.raises(TimeoutError):
        await deadline.wait(asyncio.sleep(5))
    assert loop.time() - started < 0.1


async def test_a_moved_deadline_gives_the_later_waits_the_new_time() -> None:
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop.time() + 0.05)
    await deadline.wait(asyncio.sleep(0))
    deadline.move(loop.time() + 5)
    assert await deadline.wait(asyncio.sleep(0.15, "late")) == "late"
    deadline.cancel()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    loop = asyncio.get_running_loop()

    async def reader() -> None:
        deadline = Deadline(loop.time() + 5)
        await deadline.wait(asyncio.sleep(5))

    task = asyncio.ensure_future(reader())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
