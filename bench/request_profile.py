"""Where the gateway's CPU goes on one ``POST /v1/chat/completions``: a profile in process.

    python bench/request_profile.py                  # 3,000 varied questions, cProfile
    python bench/request_profile.py --repeated       # one question asked over and over
    python bench/request_profile.py --no-profile     # CPU time per request only

The gateway app (the configuration bench/overhead.py uses: the full pipeline, an ``openai`` back
end) is called as an ASGI application in this process, one request after another, against the
local fake back end (bench/fake_openai.py, its own process). There is no HTTP server in front,
so what is measured is the gateway's own work plus its HTTP client: uvicorn's share (parsing
the request, writing the reply) is not in it. Requests come "through a proxy"
(``X-Forwarded-For``) so the rate limit is counted, and the JSON access log is written (to
/dev/null). Prints CPU milliseconds per request, then the functions by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facade_config import write_gateway_config  # noqa: E402  (bench/facade_config.py)
from questions import REPEATED, varied  # noqa: E402  (bench/questions.py)

from gateway import logs  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from tests.processes import free_port  # noqa: E402


async def ask(app, question: str, number: int) -> int:  # type: ignore[no-untyped-def]
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": question}]}, ensure_ascii=False
    ).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-forwarded-for", f"10.0.{number // 256 % 16}.{number % 256}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(app, questions: list[str], profile: cProfile.Profile | None) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    async with app.router.lifespan_context(app):
        for number, question in enumerate(questions[:200]):  # warm-up
            await ask(app, question, number)
        failures = 0
        started = time.process_time()
        if profile is not None:
            profile.enable()
        for number, question in enumerate(questions[200:]):
            if await ask(app, question, number) != 200:
                failures += 1
        if profile is not None:
            profile.disable()
        return time.process_time() - started, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--repeated", action="store_true", help="one question, over and over")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--save", help="write the profile (pstats) to this file")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    questions = [REPEATED] * (args.count + 200) if args.repeated else varied(args.count + 200)
    folder = Path(tempfile.mkdtemp(prefix="request-profile-"))
    port = free_port()
    backend = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_openai.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url + "/health")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        settings = load_settings(str(write_gateway_config(folder, url)))
        with open("/dev/null", "w") as sink:
            logs.configure(settings.logging, stream=sink)
            app = create_app(settings)
            # CPU time, not wall time: awaiting the back end is not the gateway's cost.
            profile = None if args.no_profile else cProfile.Profile(time.process_time)
            cpu, failures = asyncio.run(run(app, questions, profile))
        logging.shutdown()
    finally:
        backend.terminate()
        backend.wait()
    print(
        f"{args.count} {'repeated' if args.repeated else 'varied'} questions: "
        f"{1000 * cpu / args.count:.3f} ms CPU per request"
        f"{' (under cProfile)' if profile else ''}; {failures} failed"
    )
    if profile is not None:
        if args.save:
            profile.dump_stats(args.save)
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
