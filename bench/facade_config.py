"""The gateway configuration bench/overhead.py and bench/request_profile.py share: the default
full pipeline in front of one ``openai`` back end, state in SQLite."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_gateway_config(folder: Path, backend_url: str) -> Path:
    """``folder/gateway.toml`` pointing at the fake back end at ``backend_url``."""
    path = folder / "gateway.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [state]
            database_url = "sqlite:///{folder}/state.db"

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
    return path
