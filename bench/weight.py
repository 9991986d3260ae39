"""Cold-load weight of the portal against a plain Gradio chat page, in one run.

    python bench/weight.py            # 5 cold loads of each page
    python bench/weight.py --runs 9

Starts a plain ``gr.ChatInterface`` (Gradio's own chat page, mounted the same way) and the
``portal`` command, each on a free port, and loads each page in a fresh headless Chromium
context (empty cache) until its question box is visible and the network is quiet. Reported
per page: requests, bytes transferred (Chromium's encoded length, headers included), bytes
decoded, and the time until the question box is visible; medians over the runs, and the
portal's ratio to the plain page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import chromium
from tests.processes import free_port, running, script

PLAIN_CHAT = """
import sys
import gradio as gr
import uvicorn
from fastapi import FastAPI

def echo(message, history):
    return message

demo = gr.ChatInterface(fn=echo)
app = FastAPI()

@app.get("/readyz")
def ready():
    return {"ready": True}

app = gr.mount_gradio_app(app, demo, path="/")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def cold_load(browser, url: str, textbox: str) -> dict[str, float]:
    context = browser.new_context()
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    decoded: dict[str, float] = {}
    hosts: set[str] = set()

    last_request = [time.perf_counter()]

    def sent(event: dict) -> None:
        if event["request"]["url"].startswith("http"):
            hosts.add(event["request"]["url"].split("/")[2])
        sizes.setdefault(event["requestId"], 0)
        last_request[0] = time.perf_counter()

    session.on("Network.requestWillBeSent", sent)
    session.on(
        "Network.loadingFinished",
        lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    session.on(
        "Network.dataReceived",
        lambda event: decoded.__setitem__(
            event["requestId"], decoded.get(event["requestId"], 0) + event["dataLength"]
        ),
    )
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(textbox, state="visible", timeout=60_000)
    visible = time.perf_counter() - started
    # Gradio keeps a heartbeat stream open, so "network idle" never comes: wait instead until
    # no request has started for a second.
    while time.perf_counter() - last_request[0] < 1.0:
        page.wait_for_timeout(100)
    context.close()
    return {
        "requests": len(sizes),
        "transferred_bytes": sum(sizes.values()),
        "decoded_bytes": sum(decoded.values()),
        "textbox_visible_s": visible,
        "other_hosts": len(hosts - {url.split("/")[2]}),
        "other_host_names": sorted(hosts - {url.split("/")[2]}),
    }


def measure(browser, url: str, textbox: str, runs: int) -> dict[str, float]:
    cold_load(browser, url, textbox)  # the server's own first-request work is not the page's
    loads = [cold_load(browser, url, textbox) for _ in range(runs)]
    names = sorted({name for load in loads for name in load.pop("other_host_names")})
    medians = {key: statistics.median(load[key] for load in loads) for key in loads[0]}
    return {**medians, "other_host_names": names}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "plain_chat.py"
        plain.write_text(PLAIN_CHAT, encoding="utf-8")
        env = {
            "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder}/state.db",
            "TEST_LOG_DIR": folder,
        }
        plain_port, portal_port = free_port(), free_port()
        with (
            running([sys.executable, str(plain), str(plain_port)], plain_port, env) as plain_url,
            running([script("portal"), "--port", str(portal_port)], portal_port, env) as portal_url,
            chromium() as browser,
        ):
            results["plain Gradio ChatInterface"] = measure(
                browser, plain_url + "/", "textarea", args.runs
            )
            results["portal (zh-CN)"] = measure(
                browser, portal_url + "/?lang=zh-CN", "#question textarea", args.runs
            )
            results["portal (en)"] = measure(
                browser, portal_url + "/en", "#question textarea", args.runs
            )
    base = results["plain Gradio ChatInterface"]
    print(
        "| page | requests | transferred KB | decoded KB | question box visible s "
        "| other hosts | transferred vs plain |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, row in results.items():
        ratio = row["transferred_bytes"] / base["transferred_bytes"]
        print(
            f"| {name} | {row['requests']:.0f} | {row['transferred_bytes'] / 1000:.1f} | "
            f"{row['decoded_bytes'] / 1000:.1f} | {row['textbox_visible_s']:.2f} | "
            f"{row['other_hosts']:.0f} | {ratio:.2f} |"
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
