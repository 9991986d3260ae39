"""Accessibility assets (stylesheets, scripts) and the installer that hands them to Gradio.

Gradio 6 takes custom CSS and JavaScript in ``launch()`` and ``gr.mount_gradio_app()``, not in
``gr.Blocks()``; :func:`gradio_options` returns those keyword arguments.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any


def asset(name: str) -> Path:
    """The path of a file shipped in this package."""
    return Path(str(resources.files(__name__) / name))


def gradio_options() -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app`` that install the accessibility assets."""
    return {"css_paths": [asset("base.css")]}
