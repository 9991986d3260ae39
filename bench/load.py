"""Load and soak: the gateway as several workers serve it, with the built-in FAQ back end.

    python bench/load.py                     # embedded state (memory, SQLite), ~3 minutes
    python bench/load.py --shared            # Redis + PostgreSQL (throw-away servers)
    python bench/load.py --seconds 20 --soak 10000     # a shorter run

``gateway --workers 2`` on a free loopback port, then wrk (Debian package) sends
``POST /api/v1/chat`` with questions drawn from the sample knowledge base (questions and
their phrasings, every tenth one something it cannot answer) in 1,000 rotating conversations:

1. warm-up: ``--warmup`` seconds;
2. soak: ``--soak`` requests in five equal batches, the workers' resident memory (RSS, summed)
   read after the warm-up and after each batch;
3. load: ``--seconds`` seconds at concurrency ``--connections`` — requests per second, latency
   percentiles (wrk's), errors (socket errors and non-2xx replies).

Every phase is bounded in count and in time, and the script stops the servers it started.
Rate limits are off (they would refuse a load generator, which is their job); the access log
is on, into a file. Results print as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.knowledge.entries import bundled_sample, load  # noqa: E402
from tests.processes import free_port, script, started  # noqa: E402

SESSIONS = 1000
UNANSWERABLE = ["我家的猫不吃饭怎么办", "火星签证怎么申请", "周末去哪里钓鱼好", "如何学习弹钢琴"]

LUA = """
local bodies = {%s}
local counter = 0
local limit = %d
local done_here = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  return wrk.format(nil, "/api/v1/chat", nil, bodies[(counter %% #bodies) + 1])
end

function response(status, headers, body)
  done_here = done_here + 1
  if limit > 0 and done_here >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50": %%.3f, "p90": %%.3f, "p99": %%.3f, "max": %%.3f}\\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def questions() -> list[str]:
    knowledge = load([bundled_sample()])
    asked = [text for entry in knowledge.entries for text in [entry.question, *entry.phrasings]]
    mixed = []
    for index, question in enumerate(asked):
        mixed.append(question)
        if index % 9 == 0:
            mixed.append(UNANSWERABLE[index % len(UNANSWERABLE)])
    return mixed


def lua_script(folder: Path, per_thread_limit: int) -> Path:
    bodies = []
    for index, question in enumerate(questions() * 3):
        body = {"message": question, "session_id": f"load-{index % SESSIONS}"}
        bodies.append(f"[==[{json.dumps(body, ensure_ascii=False)}]==]")
    path = folder / f"load-{per_thread_limit}.lua"
    path.write_text(LUA % (",\n".join(bodies), per_thread_limit), encoding="utf-8")
    return path


def wrk(url: str, folder: Path, connections: int, seconds: float, count: int = 0) -> dict:
    """wrk with two threads for ``seconds``; with ``count`` > 0 its threads stop sending after
    that many responses (wrk still ends only when ``seconds`` are over)."""
    threads = 2
    script_path = lua_script(folder, -(-count // threads) if count else 0)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
         "--timeout", "10s", "-s", str(script_path), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    result["errors"] = sum(result[key] for key in ("connect", "read", "write", "status", "timeout"))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def wrk_count(url: str, folder: Path, connections: int, count: int, rps: float) -> dict:
    """Exactly ``count`` requests (give or take a thread's last one), in runs sized by the
    rate seen so far; bounded: at most ten runs."""
    total = {"requests": 0, "seconds": 0.0, "errors": 0}
    for _ in range(10):
        remaining = count - total["requests"]
        if remaining <= 0:
            break
        result = wrk(url, folder, connections, remaining / rps * 1.1 + 1, remaining)
        rps = max(1.0, result["rps"])
        for key in total:
            total[key] += result[key]
    return total


def workers_rss_mb(master: psutil.Process) -> list[float]:
    """Resident memory of each worker (uvicorn starts them with multiprocessing's spawn)."""
    return [
        child.memory_info().rss / 2**20
        for child in master.children(recursive=True)
        if "spawn_main" in " ".join(child.cmdline())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15, help="seconds")
    parser.add_argument("--soak", type=int, default=50_000)
    parser.add_argument("--shared", action="store_true", help="Redis + PostgreSQL state")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (scripts/system-packages installs it)")

    # Other work on the machine takes cores from the workers and from wrk: say how much.
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {
        "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder / 'state.db'}",
        "GATEWAY_LIMITS__PER_IP": "",
        "GATEWAY_LIMITS__PER_SESSION": "",
        "TEST_LOG_DIR": str(folder),
    }
    with ExitStack() as stack:
        state = "memory + SQLite"
        if args.shared:
            from tests.databases import postgres_server, redis_server

            redis = stack.enter_context(redis_server())
            postgres = stack.enter_context(postgres_server())
            env["GATEWAY_REDIS__URL"] = redis.url
            env["GATEWAY_STATE__DATABASE_URL"] = postgres.create_database()
            state = "Redis + PostgreSQL"
        port = free_port()
        command = [script("gateway"), "--port", str(port), "--workers", str(args.workers)]
        server = stack.enter_context(started(command, port, env, timeout=120))
        master = psutil.Process(server.popen.pid)
        url = server.url

        results = {"warm-up": wrk(url, folder, args.connections, args.warmup)}
        rate = results["warm-up"]["rps"]
        rss = [sum(workers_rss_mb(master))]
        soak_requests = soak_errors = 0
        for _ in range(5):
            result = wrk_count(url, folder, args.connections, args.soak // 5, rate)
            soak_requests += result["requests"]
            soak_errors += result["errors"]
            rss.append(sum(workers_rss_mb(master)))
        results["load"] = wrk(url, folder, args.connections, args.seconds)
        per_worker = workers_rss_mb(master)

    load_result = results["load"]
    growth = (rss[-1] - rss[0]) / rss[0] * 100
    print(f"\n{args.workers} workers, FAQ back end, {state}, concurrency {args.connections}")
    print(f"load average (1 min) before the run: {load_before:.2f}; {os.cpu_count()} cores\n")
    print("| phase | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        print(
            f"| {name} ({result['seconds']:.0f} s) | {result['requests']:,} | {result['errors']} "
            f"| {result['rps']:,.0f} | {result['p50']:.2f} | {result['p90']:.2f} "
            f"| {result['p99']:.2f} | {result['max']:.1f} |"
        )
    print(f"\nsoak: {soak_requests:,} requests, {soak_errors} errors")
    print("RSS of the workers (MB, summed) after warm-up and after each fifth of the soak: "
          + " → ".join(f"{value:.0f}" for value in rss))  # fmt: skip
    print(f"RSS growth over the soak: {growth:+.1f} %  (target ≤ 10 %)")
    print("per worker at the end (MB): " + ", ".join(f"{value:.0f}" for value in per_worker))
    print(f"load errors: {load_result['errors']}  (target 0)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
