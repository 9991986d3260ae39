"""Question-answering back ends, found by ``type`` among the built-ins and the
``gateway.backends`` entry points (see gateway/extensions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway import extensions
from gateway.backends.base import Backend
from gateway.config import BackendConfig

if TYPE_CHECKING:
    from gateway.services import Services

GROUP = "gateway.backends"


def create(config: BackendConfig, services: Services) -> Backend:
    """A back end built from its configuration table, options checked."""
    return extensions.create(
        GROUP,
        config.type,
        Backend,
        config.options,
        services,
        label=f"back end {config.name!r} ({config.type})",
        name=config.name,
    )
