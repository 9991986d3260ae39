"""``gateway analyze "TEXT"``: how the gateway understands a question, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.config import ConfigError, load_settings
from gateway.errors import GatewayError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="show how a question is understood (language, corrections), as JSON",
        description="Run the understanding pipeline on TEXT and print the analysis as JSON, "
        "exactly as POST /api/v1/analyze returns it.",
    )
    parser.add_argument("text", help="the question, as a resident would type it")
    parser.add_argument("--lang", help="UI language (default: service.default_locale)")
    parser.add_argument(
        "--no-correct",
        dest="correct",
        action="store_false",
        help="skip pinyin conversion and typo correction (the portal's 'ask what I typed')",
    )
    parser.add_argument("--config", help="TOML configuration file")
    parser.set_defaults(run=analyze)


def analyze(args: argparse.Namespace) -> None:
    from gateway.understanding.pipeline import pipeline_for

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"gateway: {exc}")
    locale = args.lang or settings.service.default_locale
    try:
        result = pipeline_for(settings).run(args.text, locale, correct=args.correct).to_dict()
    except GatewayError as error:
        print(json.dumps(error.body(locale), ensure_ascii=False, indent=2))
        sys.exit(1)
    print(json.dumps(result, ensure_ascii=False, indent=2))
