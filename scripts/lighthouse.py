"""Lighthouse's accessibility score for the portal in each mode and a few languages.

    .venv/bin/python scripts/lighthouse.py

Needs Node and npm (Lighthouse is fetched with ``npx`` unless $LIGHTHOUSE names a binary) and
Debian's Chromium ($CHROME_PATH, default /usr/bin/chromium). Starts the ``portal`` command on a
free port, runs ``lighthouse --only-categories=accessibility`` on each page and prints a table
of scores with any failed audits. Not part of ``make test``: the axe-core browser tests are.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from tests.processes import free_port, running, script  # noqa: E402

PAGES = [
    ("zh-CN standard", "?lang=zh-CN"),
    ("zh-CN elder", "?lang=zh-CN&mode=elder"),
    ("zh-CN high contrast", "?lang=zh-CN&contrast=high"),
    ("en dark", "?lang=en&contrast=dark"),
    ("ar (right to left)", "?lang=ar"),
    ("zh-HK elder, high contrast", "?lang=zh-HK&mode=elder&contrast=high"),
]


def lighthouse_command() -> list[str]:
    binary = os.environ.get("LIGHTHOUSE")
    return shlex.split(binary) if binary else ["npx", "--yes", "lighthouse@12.8.2"]


def main() -> None:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", chromium_path())}
    flags = " ".join(["--headless=new", *CHROMIUM_FLAGS])
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        settings = {
            "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder}/state.db",
            "TEST_LOG_DIR": folder,
        }
        with running([script("portal"), "--port", str(port)], port, settings) as url:
            print("| page | URL | Lighthouse accessibility | audits that applied | failed audits |")
            print("|---|---|---|---|---|")
            for name, query in PAGES:
                report = Path(folder) / "report.json"
                subprocess.run(
                    [
                        *lighthouse_command(),
                        f"{url}/{query}",
                        "--only-categories=accessibility",
                        "--output=json",
                        f"--output-path={report}",
                        f"--chrome-flags={flags}",
                        "--quiet",
                    ],
                    check=True,
                    env=env,
                )
                result = json.loads(report.read_text(encoding="utf-8"))
                score = round(result["categories"]["accessibility"]["score"] * 100)
                failed = [
                    audit_id
                    for audit_id, audit in result["audits"].items()
                    if audit.get("score") == 0 and audit.get("scoreDisplayMode") == "binary"
                ]
                # A page audited before Gradio drew it would pass with little to check.
                applied = sum(
                    audit.get("scoreDisplayMode") == "binary" for audit in result["audits"].values()
                )
                version = result["lighthouseVersion"]
                print(f"| {name} | `/{query}` | {score} | {applied} | {', '.join(failed) or '—'} |")
            print(f"\nLighthouse {version}")


if __name__ == "__main__":
    main()
