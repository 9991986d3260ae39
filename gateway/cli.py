"""``gateway``: run the HTTP service (the default command), or use its tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gateway.config import CONFIG_FILE_VARIABLE, ConfigError, Settings, load_settings
from gateway.knowledge import cli as knowledge_cli
from gateway.translation import cli as translate_cli
from gateway.understanding import cli as understanding_cli


def add_server_options(parser: argparse.ArgumentParser, default_port: str) -> None:
    parser.add_argument("--host", help="address to listen on (default: server.host)")
    parser.add_argument("--port", type=int, help=f"port to listen on (default: {default_port})")
    parser.add_argument(
        "--config", help="TOML configuration file (default: none, the embedded defaults)"
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log level (default: logging.level, info)",
    )


def start_logging(settings: Settings, args: argparse.Namespace) -> None:
    from gateway import logs

    logs.configure(settings.logging, args.log_level)


#: Keyword arguments of ``uvicorn.run``: logging is ours (gateway/logs.py), and uvicorn's access
#: log, which writes client addresses, is replaced by ``gateway.access``.
UVICORN_LOGGING = {"log_config": None, "access_log": False}


def unshared_workers(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes without Redis are not one gateway, or None when they are."""
    if workers <= 1 or settings.redis.url:
        return None
    return (
        f"{workers} workers without [redis] url: each keeps its own conversations, rate-limit "
        "counters and circuit breakers, and a knowledge-base reload reaches only the worker "
        "that received it (docs/deployment.md)"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"gateway: {exc}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = settings_from(args)
    start_logging(settings, args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    if args.workers > 1:
        unshared = unshared_workers(settings, args.workers)
        if unshared:
            logging.getLogger("gateway").warning(unshared)
        # Each worker builds its own app from the same configuration (gateway/app.py).
        if args.config:
            os.environ[CONFIG_FILE_VARIABLE] = str(Path(args.config).resolve())
        if args.log_level:
            os.environ["GATEWAY_LOGGING__LEVEL"] = args.log_level
        # Metrics of every worker in one /metrics (gateway/api/observe.py).
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="gateway-metrics-")
        )
        uvicorn.run(
            "gateway.app:app_from_environment",
            factory=True,
            workers=args.workers,
            host=host,
            port=port,
            **UVICORN_LOGGING,
        )
        return
    from gateway.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, **UVICORN_LOGGING)


def database(args: argparse.Namespace) -> None:
    """``gateway db upgrade|current``: the store's schema (gateway/state/migrations)."""
    from gateway.state import migrations
    from gateway.state.store import make_engine

    settings = settings_from(args)
    engine = make_engine(settings.state.database_url)
    try:
        if args.action == "upgrade":
            migrations.upgrade(engine, args.revision)
        print(f"{migrations.current(engine) or 'empty'} (latest: {migrations.head()})")
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="The question gateway of the government services assistant."
    )
    add_server_options(parser, "server.port, 8000")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1); several need [redis] url to share state",
    )
    parser.set_defaults(run=serve)
    subparsers = parser.add_subparsers(title="commands", dest="command")
    translate_cli.register(subparsers)
    understanding_cli.register(subparsers)
    knowledge_cli.register(subparsers)
    db = subparsers.add_parser("db", help="the database's schema: migrate it, or show its version")
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("revision", nargs="?", default="head", help="for upgrade (default: head)")
    db.add_argument("--config", help="TOML configuration file")
    db.set_defaults(run=database)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
