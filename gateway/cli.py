"""``gateway``: run the HTTP service (the default command), or use its tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.config import ConfigError, Settings, load_settings
from gateway.translation import cli as translate_cli
from gateway.understanding import cli as understanding_cli


def add_server_options(parser: argparse.ArgumentParser, default_port: str) -> None:
    parser.add_argument("--host", help="address to listen on (default: server.host)")
    parser.add_argument("--port", type=int, help=f"port to listen on (default: {default_port})")
    parser.add_argument(
        "--config", help="TOML configuration file (default: none, the embedded defaults)"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level")


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"gateway: {exc}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from gateway.app import create_app

    settings = settings_from(args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    uvicorn.run(create_app(settings), host=host, port=port, log_level=args.log_level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="The question gateway of the government services assistant."
    )
    add_server_options(parser, "server.port, 8000")
    parser.set_defaults(run=serve)
    subparsers = parser.add_subparsers(title="commands", dest="command")
    translate_cli.register(subparsers)
    understanding_cli.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
