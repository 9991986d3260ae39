"""Routing: which back ends, in which order, answer a question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.backends.base import Backend, Query
from gateway.config import ConfigError, RouteConfig


class Router:
    def __init__(self, routes: Sequence[RouteConfig], backends: Mapping[str, Backend]) -> None:
        for route in routes:
            for name in route.backends:
                if name not in backends:
                    raise ConfigError(
                        f"route {route.match!r} names no configured back end {name!r}"
                    )
        if not any(route.match == "*" for route in routes):
            raise ConfigError('no route matches every question: add one with match = "*"')
        self.routes = list(routes)
        self.backends = dict(backends)

    def backends_for(self, query: Query) -> list[Backend]:
        """The back ends to try for ``query``, in order."""
        for route in self.routes:
            if route.match == "*":
                return [self.backends[name] for name in route.backends]
        return []
