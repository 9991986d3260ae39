"""``gateway kb``: the knowledge base's tools: ``build`` (the whole retrieval index into
``[knowledge] index_dir``: only changed files are read and only texts not embedded before are
embedded, with a progress bar, so the gateway then starts from the kept index in seconds;
gateway/knowledge/persist.py), ``sources`` (what each file gave, its problems, and the
questions understanding would change) and ``crawl`` (a site's pages into a folder the base
reads).

Each subcommand is a module-level function registered in :func:`register`; another adds
itself the same way (``commands.add_parser(...)`` with ``set_defaults(run=...)``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from gateway.knowledge.entries import KnowledgeBase


def register(subparsers: Any) -> argparse._SubParsersAction:
    """Add ``kb`` and its subcommands; returns the group's subparsers, to add more to."""
    parser = subparsers.add_parser(
        "kb", help="the knowledge base: build its index, its sources, crawling a site"
    )
    commands = parser.add_subparsers(title="kb commands", dest="kb_command")
    build = commands.add_parser(
        "build",
        help="build the retrieval index into [knowledge] index_dir",
        description="Read the knowledge base's changed files, embed every text not yet "
        "embedded and keep the whole index (entries, BM25, vectors, ANN graphs) in "
        "[knowledge] index_dir, so the gateway starts from it.",
    )
    build.add_argument("--config", help="TOML configuration file")
    build.set_defaults(run=_build)
    sources = commands.add_parser(
        "sources",
        help="each file of the knowledge base: kind, entries, passages, problems; the "
        "questions understanding would change",
        description="Read the configured knowledge base and print, for each file, its kind, "
        "how many entries and passages it gave and its problems, then the questions and "
        "phrasings whose words understanding would change (the gateway warns of them at "
        "start). Exits 1 when a problem stops the base loading (curated .jsonl entries, "
        "kb.json), as it would stop the gateway.",
    )
    sources.add_argument("--config", help="TOML configuration file")
    sources.set_defaults(run=_sources)
    crawl = commands.add_parser(
        "crawl",
        help="fetch a site's pages and documents into a folder the knowledge base reads",
        description="Fetch pages breadth first from URL, following links within the allowed "
        "domains, obeying robots.txt, into OUT with a sources.csv naming each file's URL. Add "
        "OUT to [knowledge] paths.",
    )
    crawl.add_argument("urls", nargs="+", metavar="URL", help="where to start")
    crawl.add_argument(
        "--allow",
        action="append",
        required=True,
        metavar="DOMAIN",
        help="a domain whose hosts may be fetched (repeatable); nothing else is",
    )
    crawl.add_argument("--out", required=True, type=Path, help="folder to save the files in")
    crawl.add_argument("--max-pages", type=int, default=200, help="files to save at most (200)")
    crawl.add_argument(
        "--delay", type=float, default=1.0, help="seconds between requests to a site (1.0)"
    )
    crawl.add_argument("--config", help="TOML configuration file (for the size cap and [http])")
    crawl.set_defaults(run=_crawl)
    parser.set_defaults(run=lambda args: parser.print_help())
    return commands


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"gateway: {exc}")


def _sources(args: argparse.Namespace) -> None:
    from gateway.knowledge import entries
    from gateway.services import Services

    settings = _settings(args)
    paths = Services(settings).knowledge_paths
    try:
        base = entries.load(paths, settings.knowledge)
    except entries.KnowledgeBaseError as exc:
        sys.exit(f"gateway kb sources: {exc}")
    print("file\tkind\tentries\tpassages\tproblems")
    for report in base.sources:
        print(f"{report.file}\t{report.kind}\t{report.entries}\t{report.passages}\t"
              f"{len(report.problems)}")  # fmt: skip
        for problem in report.problems:
            print(f"  {problem}")
    print("{files} file(s): {entries} entries, {passages} passages, {problems} problem(s)".format(
        **base.source_totals()
    ))  # fmt: skip
    if base.entries:
        _changed_questions(settings, base)


def _changed_questions(settings: Settings, base: KnowledgeBase) -> None:
    """The base's questions and phrasings that understanding would change (the gateway warns
    of them at start): each would be answered as something else."""
    from gateway.understanding.pipeline import Pipeline, describe_change

    pipeline = Pipeline.from_config(settings.understanding)
    pipeline.learn(base)
    changed = pipeline.changed_questions(base)
    print(f"{len(changed)} question(s) or phrasing(s) that understanding changes")
    for analysis in changed:
        print(f"  {describe_change(analysis)}")


def _crawl(args: argparse.Namespace) -> None:
    from gateway.knowledge.crawl import CrawlOptions, crawl

    settings = _settings(args)
    if args.max_pages < 1 or args.delay < 0:
        sys.exit("gateway kb crawl: --max-pages must be at least 1 and --delay not negative")
    options = CrawlOptions(
        allow=args.allow,
        max_pages=args.max_pages,
        delay=args.delay,
        max_bytes=settings.knowledge.max_file_bytes,
    )
    result = asyncio.run(crawl(args.urls, args.out, options, settings.http, progress=print))
    print(
        f"{len(result.saved)} file(s) saved in {args.out}, {len(result.skipped)} address(es) "
        "skipped; add the folder to [knowledge] paths"
    )
    if not result.saved:
        sys.exit(1)


def _build(args: argparse.Namespace) -> None:
    from gateway.knowledge.embedding import EmbeddingError
    from gateway.knowledge.entries import KnowledgeBaseError
    from gateway.services import Services, build_index

    settings = _settings(args)
    try:
        paths = Services(settings).knowledge_paths
        started = time.perf_counter()
        index = build_index(paths, settings.knowledge, progress=True)
    except (KnowledgeBaseError, EmbeddingError) as exc:
        sys.exit(f"gateway: {exc}")
    knowledge = index.knowledge
    vectors = "dense vectors" if index.dense else "no dense vectors (embedder = none)"
    print(
        f"{len(knowledge.entries)} entries, {len(knowledge.passages)} passages, {vectors}; "
        f"index in {settings.knowledge.index_dir} ({time.perf_counter() - started:.1f} s)"
    )
