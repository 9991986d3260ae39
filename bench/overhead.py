"""What a proxy in front of an OpenAI-compatible back end costs: the gateway against LiteLLM.

    python bench/overhead.py                  # everything, about three minutes
    python bench/overhead.py --no-litellm     # skip installing and measuring LiteLLM
    python bench/overhead.py --duration 20    # longer load runs

In one run, one worker each, against the same local fake back end (bench/fake_openai.py):
*direct* (the back end itself), the *gateway* (``POST /v1/chat/completions``, the full pipeline:
understanding, personal-number masking, routing with breaker and timeouts, the session store)
and the *LiteLLM proxy* (installed by this script into its own virtualenv under var/bench).

Measured: added latency at concurrency 1 (p50, p99, from wrk's latency distribution), requests
per second at concurrency 32 (wrk, two threads), added time to the first content chunk when
streaming (a Python client, 300 sequential requests), the server's CPU time per request (from
/proc during the concurrency-32 run) and its peak resident memory (VmHWM). Needs ``wrk``
(Debian package; installed when running as root).
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

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
BODY = {"model": "m", "messages": [{"role": "user", "content": "居住证怎么办理？需要带什么材料"}]}
LITELLM_KEY = "sk-bench-master-key"


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
    script = VAR / f"post-{target.name}.lua"
    headers = {"Content-Type": "application/json", **target.headers}
    # A long-bracket string: Lua reads it as is (the JSON's own \\u escapes included).
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{json.dumps(BODY)}]==]"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines.append(
        textwrap.dedent(
            """
            done = function(summary, latency, requests)
              io.write(string.format("RESULT %d %d %d %d %f %f\\n", summary.requests,
                summary.errors.status + summary.errors.connect + summary.errors.read
                + summary.errors.write + summary.errors.timeout, summary.duration,
                latency:percentile(50), latency:percentile(99), 0))
            end
            """
        )
    )
    script.write_text("\n".join(lines))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script),
        target.url + "/v1/chat/completions",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests, errors, duration_us, p50, p99, _ = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(errors),
        "rps": int(requests) / (int(duration_us) / 1e6),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
    }


def first_chunk_ms(target: Target, count: int) -> float:
    """Median time from sending a streaming request to its first content chunk."""
    body = {**BODY, "stream": True}
    timings = []
    with httpx.Client(timeout=30, headers=target.headers) as client:
        for number in range(count + 20):
            started_at = time.perf_counter()
            with client.stream("POST", target.url + "/v1/chat/completions", json=body) as response:
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
    }
    print(
        f"  {target.name}: {json.dumps({k: round(v, 3) for k, v in target.results.items()})}",
        flush=True,
    )


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
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    ensure_wrk()
    python = sys.executable
    backend_port, gateway_port, litellm_port = free_port(), free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    work = Path(tempfile.mkdtemp(prefix="overhead-", dir=VAR))
    (work / "gateway.toml").write_text(
        textwrap.dedent(
            f"""
            [state]
            database_url = "sqlite:///{work}/state.db"

            [[backends]]
            name = "llm"
            type = "openai"
            base_url = "{backend_url}/v1"
            model = "m"
            max_concurrency = 256

            [[routes]]
            backends = ["llm"]
            """
        )
    )
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
    targets: list[Target] = []
    with started(
        "backend",
        [python, str(ROOT / "bench" / "fake_openai.py"), str(backend_port)],
        backend_url,
        "/health",
        {},
    ) as backend:
        targets.append(Target("direct", backend_url, backend))
        gateway_command = [
            str(Path(python).with_name("gateway")),
            "--config",
            str(work / "gateway.toml"),
            "--port",
            str(gateway_port),
            "--log-level",
            "warning",
        ]
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        with started("gateway", gateway_command, gateway_url, "/readyz", {}) as gateway:
            targets.append(Target("gateway", gateway_url, gateway))
            print("measuring direct and gateway", flush=True)
            for target in targets:
                measure(target, args.duration, args.streams)
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
                    "litellm", litellm_url, litellm, {"Authorization": f"Bearer {LITELLM_KEY}"}
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
