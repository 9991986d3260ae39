"""``gateway``: run the HTTP service (the default command), or use its tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.config import ConfigError, Settings, load_settings


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


def analyze(args: argparse.Namespace) -> None:
    """Print how the gateway understands a question, as ``POST /api/v1/analyze`` returns it."""
    import json

    from gateway.errors import GatewayError
    from gateway.understanding.pipeline import pipeline_for

    settings = settings_from(args)
    locale = args.lang or settings.service.default_locale
    try:
        result = pipeline_for(settings).run(args.text, locale, correct=args.correct).to_dict()
    except GatewayError as error:
        print(json.dumps(error.body(locale), ensure_ascii=False, indent=2))
        sys.exit(1)
    print(json.dumps(result, ensure_ascii=False, indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="The question gateway of the government services assistant."
    )
    add_server_options(parser, "server.port, 8000")
    parser.set_defaults(run=serve)
    commands = parser.add_subparsers(title="commands", dest="command")
    understand = commands.add_parser(
        "analyze",
        help="show how a question is understood (language, corrections), as JSON",
        description="Run the understanding pipeline on TEXT and print the analysis as JSON, "
        "exactly as POST /api/v1/analyze returns it.",
    )
    understand.add_argument("text", help="the question, as a resident would type it")
    understand.add_argument("--lang", help="UI language (default: service.default_locale)")
    understand.add_argument(
        "--no-correct",
        dest="correct",
        action="store_false",
        help="skip pinyin conversion and typo correction (the portal's 'ask what I typed')",
    )
    understand.add_argument("--config", help="TOML configuration file")
    understand.set_defaults(run=analyze)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
