"""Run the real console scripts on free loopback ports for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def script(name: str) -> str:
    """The console script installed beside the running interpreter."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        raise RuntimeError(f"{name} is not installed; run `pip install -e .` first")
    return str(path)


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    ready_path: str = "/readyz",
    timeout: float = 60.0,
) -> Iterator[str]:
    """Start ``command``, wait until ``ready_path`` answers 200, yield the base URL, stop it."""
    with started(command, port, env, ready_path, timeout) as process:
        yield process.url


class Process:
    def __init__(self, popen: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.popen = popen
        self.url = url
        self.log = log


@contextmanager
def started(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    ready_path: str = "/readyz",
    timeout: float = 60.0,
) -> Iterator[Process]:
    """Like :func:`running`, yielding the process too (a test may kill it)."""
    url = f"http://127.0.0.1:{port}"
    log = Path(env.get("TEST_LOG_DIR", "/tmp")) / f"process-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited early:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(url + ready_path, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} not ready:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield Process(process, url, log)
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
