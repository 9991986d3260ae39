"""Cold-load weight of the portal and the widget against a plain Gradio chat page, in one run.

    python bench/weight.py            # 5 cold loads of each page
    python bench/weight.py --runs 9

Starts a plain ``gr.ChatInterface`` (Gradio's own chat page, mounted the same way), the
``portal`` command and a host site that embeds the widget with its script tag, each on a free
port, and loads each page in a fresh headless Chromium context (empty cache) until its question
box is visible and the network is quiet. Reported per page: requests, bytes transferred
(Chromium's encoded length, headers included), bytes decoded, and the time until the question
box is visible; medians over the runs, and the ratio to the plain page. The host site's rows
are what the widget adds to a page (its own small page is left out): the loader alone, with
the panel closed (until the launcher is visible), and after the launcher is pressed (until the
widget's question box is visible in the panel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import chromium
from tests.processes import free_port, running, script
from tests.servers.host_site import host_site, script_tag
from tests.servers.host_site import page as host_page

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


def visible(selector: str) -> Callable[[Page], None]:
    def wait(page: Page) -> None:
        page.wait_for_selector(selector, state="visible", timeout=60_000)

    return wait


def opened_widget(page: Page) -> None:
    """Press the launcher, then wait for the widget's question box inside the panel."""
    page.locator("button.launcher").click()
    page.frame_locator("iframe").locator("#question textarea").wait_for(timeout=60_000)


def cold_load(
    browser, url: str, ready: Callable[[Page], None], counted: str | None = None
) -> dict[str, float]:
    """One load in a fresh context with the cache off, until ``ready`` returns and no request
    has started for a second. ``counted``: count only the requests to this host (the
    assistant's, on a host site's page)."""
    context = browser.new_context()
    page = context.new_page()
    # The CDP session of the page sees its frames' requests too while they share its process
    # (the host site and the assistant are both on 127.0.0.1: one site).
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    decoded: dict[str, float] = {}
    hosts: set[str] = set()
    own = {url.split("/")[2], counted}

    last_request = [time.perf_counter()]

    def sent(event: dict) -> None:
        request_url = event["request"]["url"]
        if request_url.startswith("http"):
            hosts.add(request_url.split("/")[2])
        if counted is None or request_url.split("/")[2:3] == [counted]:
            sizes.setdefault(event["requestId"], 0)
        last_request[0] = time.perf_counter()

    session.on("Network.requestWillBeSent", sent)

    def finished(event: dict) -> None:
        if event["requestId"] in sizes:
            sizes[event["requestId"]] = event["encodedDataLength"]

    def received(event: dict) -> None:
        if event["requestId"] in sizes:
            decoded[event["requestId"]] = decoded.get(event["requestId"], 0) + event["dataLength"]

    session.on("Network.loadingFinished", finished)
    session.on("Network.dataReceived", received)
    started = time.perf_counter()
    page.goto(url)
    ready(page)
    shown = time.perf_counter() - started
    # Gradio keeps a heartbeat stream open, so "network idle" never comes: wait instead until
    # no request has started for a second.
    while time.perf_counter() - last_request[0] < 1.0:
        page.wait_for_timeout(100)
    context.close()
    return {
        "requests": len(sizes),
        "transferred_bytes": sum(sizes.values()),
        "decoded_bytes": sum(decoded.values()),
        "textbox_visible_s": shown,
        "other_hosts": len(hosts - own),
        "other_host_names": sorted(hosts - own),
    }


def measure(
    browser, url: str, ready: Callable[[Page], None], runs: int, counted: str | None = None
) -> dict[str, float]:
    # The server's own first-request work is not the page's.
    cold_load(browser, url, ready, counted)
    loads = [cold_load(browser, url, ready, counted) for _ in range(runs)]
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
        question = visible("#question textarea")
        with host_site() as host:
            env["GATEWAY_SECURITY__FRAME_ANCESTORS"] = f'["{host.url}"]'
            with (
                running([sys.executable, str(plain), str(plain_port)], plain_port, env) as plain,
                running([script("portal"), "--port", str(portal_port)], portal_port, env) as url,
                chromium() as browser,
            ):
                embedding = host.add("/", host_page(script_tag(url, lang="zh-CN")))
                assistant = url.split("/")[2]
                rows = {
                    "plain Gradio ChatInterface": (plain + "/", visible("textarea"), None),
                    "portal (zh-CN)": (url + "/?lang=zh-CN", question, None),
                    "portal (en)": (url + "/en", question, None),
                    "widget (zh-CN)": (url + "/widget?lang=zh-CN", question, None),
                    "embed.js on a host page, closed": (
                        embedding,
                        visible("button.launcher"),
                        assistant,
                    ),
                    "embed.js on a host page, opened": (embedding, opened_widget, assistant),
                }
                for name, (address, ready, counted) in rows.items():
                    results[name] = measure(browser, address, ready, args.runs, counted)
    base = results["plain Gradio ChatInterface"]
    print(
        "| page | requests | transferred KB | decoded KB | ready s "
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
