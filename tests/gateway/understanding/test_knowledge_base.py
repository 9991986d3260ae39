"""The service's own words pass through understanding unchanged: every question and phrasing
of the sample knowledge base, and every curated term (gateway/data/terms.tsv, the glossary's
Chinese names) alone and inside a sentence, through the whole pipeline and through each stage
whatever language it is told the text is in. An operator's base whose questions would be
changed is reported at start and by ``gateway kb sources``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import Settings
from gateway.knowledge import entries
from gateway.knowledge.tokenize import government_terms
from gateway.services import Services
from gateway.understanding.base import Analysis
from gateway.understanding.lexicon import glossary_terms
from gateway.understanding.normalize import normalize
from gateway.understanding.pipeline import Pipeline, knowledge_questions

#: Where a term stands in what residents type: alone, in a short question, in a long story.
FRAMES = (
    "{}",
    "请问一下{}在哪里办",
    "我爸爸去年中风了现在在家躺着，家里想问问{}的事情要带什么材料",
)
#: What a stage may be told of the text (its language, identification's notes) for it to act
#: on a term: script conversion on a Traditional or mixed question, the Cantonese map on a
#: Cantonese one … A term must survive each stage acting on it.
TOLD = {
    "script": (
        ("zh-Hant", {"script": "hk"}),
        ("zh-Hant", {"script": "tw"}),
        ("zh-Hant", {"script": "t"}),
        ("zh", {"traditional": True}),
    ),
    "cantonese": (("yue", {"script": "hk"}), ("yue", {})),
    "pinyin": (("pinyin", {}),),
}


def curated_terms() -> list[str]:
    return sorted(set(government_terms()) | glossary_terms())


def test_the_curated_terms_are_many_and_include_the_glossary():
    terms = curated_terms()
    assert len(terms) >= 1000
    assert {"劳动仲裁", "社保卡", "居住证"} <= set(terms)


def test_every_question_and_phrasing_of_the_sample_base_is_sent_on_as_written(pipeline):
    questions = knowledge_questions(entries.load(Services(Settings()).knowledge_paths))
    assert len(questions) >= 500
    changed = [
        (question, analysis.text)
        for question in questions
        if (analysis := pipeline.run(question, "zh-CN")).text != normalize(question)
    ]
    assert changed == []
    assert pipeline.changed_questions(entries.load(Services(Settings()).knowledge_paths)) == []


def test_no_curated_term_is_altered_by_the_pipeline(pipeline):
    altered = [
        (text, analysis.text)
        for term in curated_terms()
        for text in (frame.format(term) for frame in FRAMES)
        if term not in (analysis := pipeline.run(text, "zh-CN")).text
    ]
    assert altered == []


def test_no_stage_alters_a_curated_term_whatever_language_it_is_told(pipeline):
    altered = []
    for term in curated_terms():
        for text in (frame.format(term) for frame in FRAMES):
            for stage in pipeline.stages:
                for language, notes in TOLD.get(stage.name, (("zh", {}),)):
                    analysis = Analysis(text, text, language=language, notes=dict(notes))
                    stage.apply(analysis)
                    if term not in analysis.text:
                        altered.append((stage.name, language, text, analysis.text))
    assert altered == []


# -- an operator's base --------------------------------------------------------------------


def operator_base(folder: Path) -> Path:
    """A small base: two questions as the service writes them, and one written in Cantonese,
    which understanding translates (so the resident who presses it asks something else)."""
    folder.mkdir()
    rows = [
        ("rp", "居住证怎么办理？", ["办理居住证需要什么条件"]),
        ("card", "社保卡丢了怎么补办？", []),
        ("hk", "佢嘅社保卡喺边度攞？", []),
    ]
    lines = [
        {
            "id": entry_id,
            "category": "social_insurance",
            "question": question,
            "phrasings": phrasings,
            "answer": "到就近的政务服务中心办理。",
            "source": {"title": "办事指南（示例）", "url": f"https://zwfw.example.org/{entry_id}"},
            "updated": "2026-06-01",
        }
        for entry_id, question, phrasings in rows
    ]
    (folder / "base.jsonl").write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8"
    )
    return folder


def test_a_pipeline_names_the_operator_s_questions_it_changes(tmp_path: Path):
    base = entries.load([operator_base(tmp_path / "kb")])
    pipeline = Pipeline.from_config(Settings().understanding)
    pipeline.learn(base)
    changed = pipeline.changed_questions(base)
    assert [analysis.original for analysis in changed] == ["佢嘅社保卡喺边度攞？"]
    assert changed[0].corrections[0].reason == "cantonese"
    # The start checks a large base's first questions only: here the Cantonese one is the 4th.
    assert pipeline.changed_questions(base, limit=3) == []
    assert len(pipeline.changed_questions(base, limit=4)) == 1


@pytest.mark.anyio
async def test_the_gateway_warns_at_start_of_questions_understanding_changes(
    serve_app, tmp_path: Path, caplog
):
    base = operator_base(tmp_path / "kb")
    caplog.set_level(logging.WARNING, logger="gateway.chat")
    async with serve_app(f'[knowledge]\npaths = ["{base}"]\nembedder = "none"\n') as client:
        assert (await client.get("/healthz")).status_code == 200
    (record,) = [r for r in caplog.records if "understanding changes" in r.getMessage()]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "changes 1 of the knowledge base's questions" in message
    assert "'佢嘅社保卡喺边度攞？' → '他的社保卡在哪里领?'" in message
    assert "gateway kb sources" in message


@pytest.mark.anyio
async def test_the_sample_base_starts_without_that_warning(serve_app, caplog):
    caplog.set_level(logging.WARNING, logger="gateway.chat")
    async with serve_app('[knowledge]\nembedder = "none"\n') as client:
        assert (await client.get("/healthz")).status_code == 200
    assert not [r for r in caplog.records if "understanding changes" in r.getMessage()]


def test_kb_sources_lists_the_questions_understanding_changes(tmp_path: Path, capsys):
    base = operator_base(tmp_path / "kb")
    config = tmp_path / "gateway.toml"
    config.write_text(f'[knowledge]\npaths = ["{base}"]\nembedder = "none"\n', encoding="utf-8")
    main(["kb", "sources", "--config", str(config)])
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("1 question(s) or phrasing(s) that understanding changes")
    assert lines[at + 1 :] == [
        "  '佢嘅社保卡喺边度攞？' → '他的社保卡在哪里领?' (佢→他 (cantonese), "
        "嘅→的 (cantonese), 喺→在 (cantonese), 边度→哪里 (cantonese), 攞→领 (cantonese))"
    ]
