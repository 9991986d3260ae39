"""``gateway kb …``: the knowledge base from the command line.

``gateway kb build [--config F]`` reads the base (``[knowledge] paths``), builds its BM25 fields
and embeds every text not yet in ``[knowledge] index_dir``, with a progress bar; the gateway
then starts from the kept vectors in seconds. Run it after changing the base's files: only
changed texts are embedded again.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from gateway.config import ConfigError, load_settings
from gateway.knowledge.embedding import EmbeddingError
from gateway.knowledge.entries import KnowledgeBaseError


def register(subparsers: Any) -> None:
    kb = subparsers.add_parser("kb", help="the knowledge base: build its index")
    commands = kb.add_subparsers(title="kb commands", dest="kb_command", required=True)
    build = commands.add_parser(
        "build",
        help="build the retrieval index into [knowledge] index_dir",
        description="Read the knowledge base and embed every text not yet embedded in "
        "[knowledge] index_dir, so the gateway starts from the kept index.",
    )
    build.add_argument("--config", help="TOML configuration file")
    build.set_defaults(run=build_index)


def build_index(args: argparse.Namespace) -> None:
    from gateway.services import Services, build_index

    try:
        settings = load_settings(args.config)
        paths = Services(settings).knowledge_paths
        started = time.perf_counter()
        index = build_index(paths, settings.knowledge, progress=True)
    except (ConfigError, KnowledgeBaseError, EmbeddingError) as exc:
        sys.exit(f"gateway: {exc}")
    knowledge = index.knowledge
    vectors = "dense vectors" if index.dense else "no dense vectors (embedder = none)"
    print(
        f"{len(knowledge.entries)} entries, {len(knowledge.passages)} passages, {vectors}; "
        f"index in {settings.knowledge.index_dir} ({time.perf_counter() - started:.1f} s)"
    )
