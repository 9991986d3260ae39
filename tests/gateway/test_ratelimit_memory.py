"""The in-process rate-limit storage: the same decisions as limits' own, swept without threads."""

from __future__ import annotations

import asyncio

import pytest
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)

from gateway.config import LimitsConfig
from gateway.safety.ratelimit import RateLimiter, SweptMemoryStorage

pytestmark = pytest.mark.anyio


def test_limits_still_has_the_hook_the_storage_replaces() -> None:
    # A limits release that renames it would silently bring back its sweeps: fail here instead.
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")


def test_the_default_limiter_uses_it() -> None:
    assert isinstance(RateLimiter(LimitsConfig()).storage, SweptMemoryStorage)


@pytest.mark.parametrize(
    "strategy", [MovingWindowRateLimiter, FixedWindowRateLimiter, SlidingWindowCounterRateLimiter]
)
async def test_same_decisions_as_limits_own_storage(strategy) -> None:
    rate = parse("3/minute")
    ours, theirs = strategy(SweptMemoryStorage()), strategy(MemoryStorage())
    for key in ("a", "b", "a"):
        decisions = [await ours.hit(rate, key) for _ in range(4)]
        assert decisions == [await theirs.hit(rate, key) for _ in range(4)]
    assert decisions == [False] * 4  # "a" used up its three in the first round


async def test_expired_entries_are_swept_without_threads(monkeypatch) -> None:
    async def no_threads(*args, **kwargs):
        raise AssertionError("the sweep must not hand work to threads")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    storage = SweptMemoryStorage()
    storage.SWEEP_SECONDS = 0.0  # sweep at every hit
    limiter = MovingWindowRateLimiter(storage)
    short, counted = parse("2/second"), parse("5/second")
    for address in range(100):
        assert await limiter.hit(short, f"10.0.0.{address}")
    fixed = FixedWindowRateLimiter(storage)
    assert await fixed.hit(counted, "counter")
    assert len(storage.events) == 100 and storage.expirations
    await asyncio.sleep(1.05)
    assert await limiter.hit(short, "another")  # sweeps the expired ones
    assert len(storage.events) == 1 and "another" in next(iter(storage.events))
    assert not storage.expirations


async def test_sweeps_at_most_once_a_period() -> None:
    storage = SweptMemoryStorage()
    sweeps = 0
    original = storage._sweep

    def counted() -> None:
        nonlocal sweeps
        sweeps += 1
        original()

    storage._sweep = counted  # type: ignore[method-assign]
    limiter = MovingWindowRateLimiter(storage)
    for number in range(200):
        await limiter.hit(parse("1000/minute"), f"key-{number}")
    assert sweeps == 1
