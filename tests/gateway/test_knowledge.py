import json
from pathlib import Path

import pytest

from gateway.knowledge.entries import KnowledgeBaseError, bundled_sample, load
from gateway.knowledge.index import FaqIndex


def entry(**changes) -> dict:
    base = {
        "id": "residence-permit-apply",
        "category": "residence_permit",
        "question": "居住证怎么办理？",
        "phrasings": ["办理居住证需要什么条件", "怎么申请居住证"],
        "answer": "在居住地居住半年以上即可申领。",
        "source": {"title": "居住证申领指南（示例）", "url": "https://zwfw.example.org/rp"},
        "updated": "2026-06-01",
    }
    return {**base, **changes}


def write(path: Path, *lines) -> Path:
    path.write_text(
        "\n".join(
            line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
            for line in lines
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def test_a_folder_with_a_manifest_loads(tmp_path: Path):
    write(tmp_path / "a.jsonl", entry(), entry(id="other", question="社保卡怎么补办"))
    (tmp_path / "kb.json").write_text(json.dumps({"name": "t", "sample": True, "hot": ["other"]}))
    knowledge = load([tmp_path])
    assert [e.id for e in knowledge.entries] == ["residence-permit-apply", "other"]
    assert knowledge.sample and [e.id for e in knowledge.hot] == ["other"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "a.jsonl:2: not valid JSON"),
        ("[1, 2]", "a.jsonl:2: an entry must be a JSON object"),
        (entry(id="x", question=""), "a.jsonl:2: question:"),
        (
            entry(id="x", source={"title": "t", "url": "javascript:alert(1)"}),
            "a.jsonl:2: source.url:",
        ),
        (entry(id="x", updated="yesterday"), "a.jsonl:2: updated:"),
        (entry(id="has space"), "a.jsonl:2: id:"),
        (entry(id="x", extra=1), "a.jsonl:2: extra:"),
        ({k: v for k, v in entry(id="x").items() if k != "answer"}, "a.jsonl:2: answer:"),
        (entry(), "a.jsonl:2: id: 'residence-permit-apply' is already used at"),
    ],
)
def test_problems_name_file_line_and_field(tmp_path: Path, line, expected):
    write(tmp_path / "a.jsonl", entry(), line)
    with pytest.raises(KnowledgeBaseError) as caught:
        load([tmp_path])
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_all_problems_are_reported_together(tmp_path: Path):
    write(tmp_path / "a.jsonl", "{bad", entry(), "{bad too")
    with pytest.raises(KnowledgeBaseError) as caught:
        load([tmp_path])
    assert len(caught.value.problems) == 2
    assert "2 problem(s)" in str(caught.value)


def test_missing_paths_empty_folders_and_bad_encodings_are_reported(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "latin1.jsonl").write_bytes("é".encode("latin-1"))
    with pytest.raises(KnowledgeBaseError) as caught:
        load([tmp_path / "absent", tmp_path / "empty", tmp_path / "latin1.jsonl"])
    text = "\n".join(caught.value.problems)
    assert "no such file" in text and "not UTF-8" in text
    assert "holds no files the knowledge base reads" in text


def test_a_manifest_naming_an_unknown_hot_entry_is_an_error(tmp_path: Path):
    write(tmp_path / "a.jsonl", entry())
    (tmp_path / "kb.json").write_text(json.dumps({"hot": ["nope"]}))
    with pytest.raises(KnowledgeBaseError, match="nope"):
        load([tmp_path])


# -- the bundled sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load([bundled_sample()])


def test_sample_is_marked_as_sample_and_big_enough(sample):
    assert sample.sample
    assert len(sample.entries) >= 150
    categories = {e.category for e in sample.entries}
    assert len(categories) >= 12
    assert categories <= {c.id for c in sample.categories}
    assert all(len(e.phrasings) >= 2 for e in sample.entries)
    assert sum("en" in e.translations for e in sample.entries) >= 40
    assert all(e.source.url.startswith("https://zwfw.example.org/") for e in sample.entries)
    assert len({e.source.url for e in sample.entries}) == len(sample.entries)
    assert all("en" in e.translations for e in sample.hot)


@pytest.fixture(scope="module")
def index(sample):
    return FaqIndex(sample)


@pytest.mark.parametrize(
    ("question", "category"),
    [
        ("居住证怎么办理", "residence_permit"),
        ("社保卡丢了怎么办", "social_insurance"),
        ("租房可以提取公积金吗", "housing_fund"),
        ("异地就医怎么备案", "medical_insurance"),
        ("护照过期了怎么换", "passport_exit_entry"),
        ("结婚登记要带什么", "marriage"),
        ("驾驶证到期换证", "driving"),
        ("个税汇算怎么办", "tax"),
        ("残疾人证在哪办", "disability"),
        ("失业金怎么领", "employment"),
        ("外国人工作许可怎么申请", "foreigners"),
        ("孩子上小学要什么材料", "school_enrollment"),
    ],
)
def test_everyday_questions_find_an_entry_of_their_area(index, question, category):
    hits = index.search(question)
    assert hits and hits[0].entry.category == category, [h.entry.id for h in hits]
    assert hits[0].confidence >= 0.6


@pytest.mark.parametrize("question", ["今天天气怎么样", "推荐一部电影", "hello", "？？？"])
def test_off_topic_questions_have_low_confidence(index, question):
    hits = index.search(question)
    assert not hits or hits[0].confidence < 0.6


def test_every_entry_is_found_by_its_own_question(index, sample):
    misses = [e.id for e in sample.entries if index.search(e.question, 1)[0].entry.id != e.id]
    assert len(misses) <= len(sample.entries) * 0.02, misses
