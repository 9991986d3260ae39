"""``gateway translate``: install and list argos language packages, offline."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.config import ConfigError, load_settings
from gateway.translation import argos
from gateway.translation.base import TranslationError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "translate", help="manage the argos translation packages (offline)"
    )
    parser.add_argument("--config", help="TOML configuration file (for the packages folder)")
    commands = parser.add_subparsers(title="translate commands", dest="translate_command")
    install = commands.add_parser("install", help="install a local .argosmodel file")
    install.add_argument("path", help="the .argosmodel file")
    install.set_defaults(run=_install)
    listing = commands.add_parser("list", help="list the installed packages and language pairs")
    listing.set_defaults(run=_list)
    parser.set_defaults(run=lambda args: parser.print_help())


def _packages_dir(args: argparse.Namespace) -> str:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"gateway: {exc}")
    options = argos.ArgosOptions.model_validate(settings.translation.options.get("argos", {}))
    return options.packages_dir


def _install(args: argparse.Namespace) -> None:
    try:
        info = argos.install(args.path, _packages_dir(args))
    except TranslationError as exc:
        sys.exit(f"gateway translate install: {exc}")
    print(f"installed {info.source} → {info.target} (version {info.version}) in {info.path}")


def _list(args: argparse.Namespace) -> None:
    try:
        packages = argos.installed(_packages_dir(args))
    except TranslationError as exc:
        sys.exit(f"gateway translate list: {exc}")
    if not packages:
        print("no argos packages installed; add one with: gateway translate install FILE")
        return
    for info in packages:
        print(f"{info.source} → {info.target}\t{info.version}\t{info.path}")
    direct = {(info.source, info.target) for info in packages}
    pivoted = sorted(
        (a, c)
        for a, b in direct
        for b2, c in direct
        if b == b2 == "en" and a != c and (a, c) not in direct
    )
    if pivoted:
        print("through English: " + ", ".join(f"{a} → {c}" for a, c in pivoted))
