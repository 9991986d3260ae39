"""Question-answering back ends, found by ``type`` among the built-ins and the
``gateway.backends`` entry points (see gateway/extensions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from gateway import extensions
from gateway.backends.base import Backend
from gateway.config import BackendConfig, ConfigError, describe

if TYPE_CHECKING:
    from gateway.services import Services

GROUP = "gateway.backends"


def backend_class(type_name: str) -> type[Backend]:
    try:
        found = extensions.load(GROUP, type_name)
    except extensions.UnknownExtension as exc:
        raise ConfigError(str(exc)) from exc
    if not (isinstance(found, type) and issubclass(found, Backend)):
        raise ConfigError(f"{GROUP} entry {type_name!r} is not a Backend subclass")
    return found


def create(config: BackendConfig, services: Services) -> Backend:
    """A back end built from its configuration table, options checked."""
    cls = backend_class(config.type)
    try:
        options = cls.Options.model_validate(config.options)
    except ValidationError as exc:
        raise ConfigError(f"back end {config.name!r} ({config.type}): {describe(exc)}") from exc
    return cls(config.name, options, services)
