"""What a proxy in front of an OpenAI-compatible back end costs: the gateway against LiteLLM.

    python bench/overhead.py                  # everything, about three minutes
    python bench/overhead.py --no-litellm     # skip installing and measuring LiteLLM
    python bench/overhead.py --duration 20    # longer load runs

In one run, one worker each, against the same local fake back end (bench/fake_openai.py):
*direct* (the back end itself), the *gateway* (``POST /v1/chat/completions``, the full pipeline:
understanding, personal-number masking, routing with breaker and timeouts, the session store)
and the *LiteLLM proxy* (installed by this script into its own virtualenv under var/bench).

Every request asks a different resident's question (bench/questions.py: the knowledge base's
questions and phrasings and the understanding development set, opened and closed the way
residents do), so no cache can flatter the result; the gateway is then measured a second time
with one question asked over and over (``--no-repeated`` skips that). Requests come through a
reverse proxy as the gateway sees them (``X-Forwarded-For``, 4,096 residents' addresses), so the
per-address rate limit is counted on every request (the default limits never refuse them), and
the JSON access log is written (into var/bench/gateway.log).

Measured: added latency at concurrency 1 (p50, p99, from wrk's latency distribution), requests
per second at concurrency 32 (wrk, two threads), added time to the first content chunk when
streaming (a Python client, 300 sequential requests), the server's CPU time per request (from
/proc during the concurrency-32 run) and its peak resident memory (VmHWM). Needs ``wrk``
(Debian package; installed when running as root). wrk, the back end and the server share the
machine's cores: the load average before and after each target is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from facade_config import write_gateway_config
from questions import REPEATED, varied

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
LITELLM_KEY = "sk-bench-master-key"
#: Distinct questions: more than a gateway run sends (wrk's requests, then the streams).
POOL = 60_000
#: Residents' addresses in ``X-Forwarded-For``: each sends a few questions a minute at most.
ADDRESSES = 4096

LUA = """
local bodies = {%s}
local addresses = %d
wrk.method = "POST"
%s

local thread_count = 0
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  offset = tonumber(args[1] or "0")
  threads = tonumber(args[2] or "1")
  counter = 0
end

function request()
  -- Threads interleave: every request of a run asks a question no other request asked.
  local index = offset + counter * threads + thread_index
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  local address = index %% addresses
  headers["X-Forwarded-For"] = string.format("10.%%d.%%d.%%d", math.floor(address / 65536),
    math.floor(address / 256) %% 256, address %% 256)
  return wrk.format(nil, nil, headers, bodies[(index %% #bodies) + 1])
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), 0))
end
"""


def body(question: str, stream: bool = False) -> dict:
    payload = {"model": "m", "messages": [{"role": "user", "content": question}]}
    return {**payload, "stream": True} if stream else payload


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Target:
    name: str
    url: str
    process: psutil.Process
    headers: dict[str, str] = field(default_factory=dict)
    results: dict[str, float] = field(default_factory=dict)
    #: The questions asked, in order; each run goes on where the last one stopped.
    questions: list[str] = field(default_factory=list)
    asked: int = 0


@contextmanager
def started(
    name: str, command: list[str], url: str, ready: str, env: dict[str, str]
) -> Iterator[psutil.Process]:
    log = VAR / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(url + ready, timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield psutil.Process(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for member in tree(process):
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def peak_rss_mb(process: psutil.Process) -> float:
    peak = 0
    for member in tree(process):
        try:
            status = Path(f"/proc/{member.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak += int(line.split()[1])
    return peak / 1024


def wrk(target: Target, connections: int, threads: int, seconds: int) -> dict[str, float]:
    script = VAR / f"post-{target.name.replace(' ', '-').replace(',', '')}.lua"
    headers = {"Content-Type": "application/json", **target.headers}
    # Long-bracket strings: Lua reads them as they are (the JSON's \\u escapes included).
    bodies = ",\n".join(f"[==[{json.dumps(body(q))}]==]" for q in target.questions)
    header_lines = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
    )
    script.write_text(LUA % (bodies, ADDRESSES, header_lines))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script),
        target.url + "/v1/chat/completions",
        "--",
        str(target.asked),
        str(threads),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests, errors, duration_us, p50, p99, _ = line.split()[1:]
    # Requests sent but not completed when the run ended took questions too.
    target.asked += int(requests) + connections
    return {
        "requests": int(requests),
        "errors": int(errors),
        "rps": int(requests) / (int(duration_us) / 1e6),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
    }


def first_chunk_ms(target: Target, count: int) -> float:
    """Median time from sending a streaming request to its first content chunk."""
    timings = []
    with httpx.Client(timeout=30, headers=target.headers) as client:
        for number in range(count + 20):
            question = target.questions[target.asked % len(target.questions)]
            target.asked += 1
            payload = body(question, stream=True)
            started_at = time.perf_counter()
            with client.stream(
                "POST", target.url + "/v1/chat/completions", json=payload
            ) as response:
                first = None
                for line in response.iter_lines():
                    if first is None and _has_content(line):
                        first = time.perf_counter() - started_at
            if number >= 20:  # after a warm-up
                timings.append(first * 1000)
    return statistics.median(timings)


def _has_content(line: str) -> bool:
    if not line.startswith("data:") or "[DONE]" in line:
        return False
    choices = json.loads(line[5:]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


def measure(target: Target, seconds: int, streams: int) -> None:
    load_before = os.getloadavg()[0]
    wrk(target, 1, 1, 2)  # warm-up
    single = wrk(target, 1, 1, seconds)
    before = cpu_seconds(target.process)
    loaded = wrk(target, 32, 2, seconds)
    cpu = cpu_seconds(target.process) - before
    target.results = {
        "p50_ms": single["p50_ms"],
        "p99_ms": single["p99_ms"],
        "rps_c32": loaded["rps"],
        "errors": single["errors"] + loaded["errors"],
        "cpu_ms_per_request": 1000 * cpu / max(1, loaded["requests"]),
        "ttfb_ms": first_chunk_ms(target, streams),
        "peak_rss_mb": peak_rss_mb(target.process),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "asked": target.asked,
    }
    print(
        f"  {target.name}: {json.dumps({k: round(v, 3) for k, v in target.results.items()})}",
        flush=True,
    )


def analysis_cache(url: str) -> dict[str, float]:
    """The understanding cache's hits and misses over the run, from the gateway's /metrics."""
    counts: dict[str, float] = {}
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith("gateway_understanding_cache_total{"):
            result = line.split('result="')[1].split('"')[0]
            counts[f"cache_{result}"] = float(line.rsplit(" ", 1)[1])
    return counts


def litellm_venv() -> Path:
    venv = VAR / "litellm-venv"
    binary = venv / "bin" / "litellm"
    if not binary.exists():
        print("installing LiteLLM (litellm[proxy]) into", venv, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # 1.107.0 was a compromised release; never install it.
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "litellm[proxy]!=1.107.0"], check=True
        )
    return binary


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    else:
        sys.exit("bench/overhead.py needs wrk: sudo apt-get install wrk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--streams", type=int, default=300, help="streaming requests timed")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument(
        "--no-repeated", action="store_true", help="skip the gateway run with one question"
    )
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    ensure_wrk()
    python = sys.executable
    backend_port, gateway_port, litellm_port = free_port(), free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    work = Path(tempfile.mkdtemp(prefix="overhead-", dir=VAR))
    gateway_toml = write_gateway_config(work, backend_url)
    (work / "litellm.yaml").write_text(
        textwrap.dedent(
            f"""
            model_list:
              - model_name: m
                litellm_params:
                  model: openai/m
                  api_base: {backend_url}/v1
                  api_key: sk-fake
            """
        )
    )
    questions = varied(POOL)
    targets: list[Target] = []
    with started(
        "backend",
        [python, str(ROOT / "bench" / "fake_openai.py"), str(backend_port)],
        backend_url,
        "/health",
        {},
    ) as backend:
        direct = Target("direct", backend_url, backend, questions=questions)
        targets.append(direct)
        print("measuring direct", flush=True)
        measure(direct, args.duration, args.streams)
        gateway_command = [
            str(Path(python).with_name("gateway")),
            "--config",
            str(gateway_toml),
            "--port",
            str(gateway_port),
        ]
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        runs = [("gateway", questions)]
        if not args.no_repeated:
            runs.append(("gateway, one question", [REPEATED]))
        for name, asked in runs:
            # A fresh process for each: neither run warms the other's caches or memory.
            with started("gateway", gateway_command, gateway_url, "/readyz", {}) as gateway:
                target = Target(name, gateway_url, gateway, questions=asked)
                targets.append(target)
                print(f"measuring {name}", flush=True)
                measure(target, args.duration, args.streams)
                target.results.update(analysis_cache(gateway_url))
        if not args.no_litellm:
            binary = litellm_venv()
            version = subprocess.run(
                [str(binary.with_name("pip")), "show", "litellm"], capture_output=True, text=True
            ).stdout
            print(
                "LiteLLM",
                *[line for line in version.splitlines() if line.startswith("Version")],
                flush=True,
            )
            env = {
                "LITELLM_MASTER_KEY": LITELLM_KEY,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_LOG": "ERROR",
            }
            command = [
                str(binary),
                "--config",
                str(work / "litellm.yaml"),
                "--port",
                str(litellm_port),
                "--num_workers",
                "1",
            ]
            litellm_url = f"http://127.0.0.1:{litellm_port}"
            with started("litellm", command, litellm_url, "/health/liveliness", env) as litellm:
                target = Target(
                    "litellm",
                    litellm_url,
                    litellm,
                    {"Authorization": f"Bearer {LITELLM_KEY}"},
                    questions=questions,
                )
                targets.append(target)
                print("measuring litellm", flush=True)
                measure(target, args.duration, args.streams)
    report(targets)


def report(targets: list[Target]) -> None:
    direct = targets[0].results
    rows = [
        "| | p50 ms (added) | p99 ms (added) | req/s at c=32 | first chunk ms (added) "
        "| CPU ms/request | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for target in targets:
        r = target.results

        def cell(key: str, r: dict[str, float] = r, first: bool = target is targets[0]) -> str:
            return f"{r[key]:.2f}" if first else f"{r[key]:.2f} (+{r[key] - direct[key]:.2f})"

        rows.append(
            f"| {target.name} | {cell('p50_ms')} | {cell('p99_ms')} | {r['rps_c32']:,.0f} "
            f"| {cell('ttfb_ms')} | {r['cpu_ms_per_request']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    print("\n".join(rows))
    print()
    for target in targets:
        r = target.results
        line = (
            f"{target.name}: load average {r['load_before']:.2f} before, {r['load_after']:.2f} "
            f"after; {target.asked:,} questions asked, {len(set(target.questions)):,} distinct"
        )
        if "cache_hit" in r:
            line += f"; understanding cache: {r['cache_hit']:,.0f} hits, "
            line += f"{r.get('cache_miss', 0):,.0f} misses"
        print(line)
    by_name = {t.name: t.results for t in targets}
    if "litellm" in by_name:
        gateway, litellm = by_name["gateway"], by_name["litellm"]
        print(
            f"\ngateway/LiteLLM: {gateway['rps_c32'] / litellm['rps_c32']:.1f}× the requests/s, "
            f"{gateway['peak_rss_mb'] / litellm['peak_rss_mb']:.2f}× the memory, "
            f"{gateway['cpu_ms_per_request'] / litellm['cpu_ms_per_request']:.2f}× the CPU "
            "per request"
        )
    errors = sum(t.results["errors"] for t in targets)
    if errors:
        print(f"\nWARNING: {errors} failed requests during the runs")


if __name__ == "__main__":
    main()
