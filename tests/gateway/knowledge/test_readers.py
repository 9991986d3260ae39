"""Each kind of source a web team has, read into entries or passages that know their
citation (title, section, URL, date)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gateway.knowledge.entries import KnowledgeBaseError, load
from gateway.knowledge.readers import ReadOptions, read_file
from tests.gateway.knowledge import files

GUIDE_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="{charset}">
<title>居住证申领指南 - 示例市政务服务网</title>
<link rel="canonical" href="https://zwfw.example.org/guide/rp">
<meta property="article:modified_time" content="2026-09-14"></head>
<body><header><div class="logo">示例市政务服务网</div>
<nav><a href="/">首页</a> <a href="/guide">办事指南</a> <a href="/news">政务公开</a></nav></header>
<main><h1>居住证申领指南</h1>
<h2>办理条件</h2><p>在居住地居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的，可以申领居住证。</p>
<h2>所需材料</h2><ul><li>居民身份证原件；</li><li>近期一寸免冠照片；</li><li>居住证明（租赁合同或房产证）。</li></ul>
<h2>办理时限</h2><p>材料齐全的，自受理之日起15个工作日内发证。</p>
</main><footer>版权所有 示例市人民政府 网站标识码 1234567890 ICP备案</footer></body></html>"""


def page(charset: str = "utf-8") -> str:
    return GUIDE_PAGE.format(charset=charset)


# -- FAQ sheets ------------------------------------------------------------------------------


def test_an_xlsx_sheet_with_chinese_headers_gives_one_entry_a_row(tmp_path: Path):
    sheet = files.xlsx(
        tmp_path / "faq.xlsx",
        [
            ["问题", "答案", "分类", "链接", "相似问法", "更新日期"],
            ["社保卡丢了怎么办？", "先挂失，再到窗口补办。", "social_insurance",
             "https://zwfw.example.org/faq/card", "社保卡补办\n社保卡挂失；社保卡不见了",
             dt.datetime(2026, 5, 1)],
            ["公积金怎么提取？", "租房可按月提取。", "housing_fund", "",
             "租房提取公积金|公积金提取条件", "2026/06/02"],
        ],
        title="公积金和社保常见问题",
    )  # fmt: skip
    read = read_file(sheet)
    assert read.report.kind == "sheet" and read.report.entries == 2 and not read.report.problems
    card, fund = read.entries
    assert card.question == "社保卡丢了怎么办？" and card.category == "social_insurance"
    assert card.phrasings == ["社保卡补办", "社保卡挂失", "社保卡不见了"]
    assert card.source.url == "https://zwfw.example.org/faq/card"
    assert card.updated == dt.date(2026, 5, 1)
    assert fund.phrasings == ["租房提取公积金", "公积金提取条件"]
    assert fund.updated == dt.date(2026, 6, 2)
    # No link of its own: the row cites the sheet.
    assert fund.source.title == "公积金和社保常见问题" and fund.source.url == ""
    assert read.places[0].endswith("faq.xlsx:常见问题!2")


def test_ids_of_sheet_rows_stay_when_rows_move(tmp_path: Path):
    rows = [
        ["question", "answer"],
        ["How do I renew my passport?", "Apply at the exit-entry office."],
    ]
    first = read_file(files.xlsx(tmp_path / "faq.xlsx", rows)).entries[0].id
    rows.insert(1, ["Where do I pay tax?", "Online."])
    again = read_file(files.xlsx(tmp_path / "faq.xlsx", rows)).entries
    assert again[1].id == first and again[0].id != first


def test_a_gbk_csv_with_english_headers_and_a_sources_listing(tmp_path: Path):
    text = (
        "Question,Answer,Category,Phrasings\n"
        "个体户怎么交税？,按月或按季申报。,tax,个体工商户纳税；个体户报税\n"
    )
    (tmp_path / "tax.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "sources.csv").write_text(
        "file,url,title\ntax.csv,https://zwfw.example.org/faq/tax,税务常见问题\n", encoding="utf-8"
    )
    read = read_file(tmp_path / "tax.csv")
    assert not read.report.problems
    (entry,) = read.entries
    assert entry.question == "个体户怎么交税？" and entry.phrasings == [
        "个体工商户纳税",
        "个体户报税",
    ]
    assert (entry.source.title, entry.source.url) == (
        "税务常见问题",
        "https://zwfw.example.org/faq/tax",
    )


# -- documents -------------------------------------------------------------------------------


def test_an_html_page_gives_its_main_content_cut_by_headings(tmp_path: Path):
    (tmp_path / "rp.html").write_text(page(), encoding="utf-8")
    read = read_file(tmp_path / "rp.html")
    assert read.report.kind == "html" and not read.report.problems
    text = "\n".join(p.text for p in read.passages)
    for chrome in ("首页", "政务公开", "版权所有", "ICP"):
        assert chrome not in text
    assert {p.title for p in read.passages} == {"居住证申领指南"}
    sections = [p.section for p in read.passages]
    assert sections == ["办理条件", "所需材料", "办理时限"]
    materials = read.passages[1]
    assert materials.text.splitlines() == [
        "- 居民身份证原件；",
        "- 近期一寸免冠照片；",
        "- 居住证明（租赁合同或房产证）。",
    ]
    assert materials.url.startswith("https://zwfw.example.org/guide/rp#")
    assert all(p.updated == dt.date(2026, 9, 14) for p in read.passages)


def test_og_url_gives_the_address_when_there_is_no_canonical_link(tmp_path: Path):
    html = page().replace(
        '<link rel="canonical" href="https://zwfw.example.org/guide/rp">',
        '<meta property="og:url" content="https://zwfw.example.org/guide/rp-og">',
    )
    (tmp_path / "rp.htm").write_text(html, encoding="utf-8")
    assert (
        read_file(tmp_path / "rp.htm")
        .passages[0]
        .url.startswith("https://zwfw.example.org/guide/rp-og")
    )


def test_a_gbk_page_declaring_gb2312_is_read_without_complaint(tmp_path: Path):
    (tmp_path / "rp.html").write_bytes(page("gb2312").encode("gbk"))
    read = read_file(tmp_path / "rp.html")
    assert not read.report.problems
    assert "合法稳定住所" in read.passages[0].text


def test_a_page_declaring_the_wrong_charset_is_read_and_the_mismatch_reported(tmp_path: Path):
    (tmp_path / "rp.html").write_bytes(page("utf-8").encode("gbk"))
    read = read_file(tmp_path / "rp.html")
    assert "合法稳定住所" in read.passages[0].text
    (problem,) = read.report.problems
    assert "rp.html" in problem and "declares the charset utf-8" in problem and "gb18030" in problem


def test_markdown_with_a_sources_listing(tmp_path: Path):
    (tmp_path / "card.md").write_text(
        "# 社保卡补办\n\n## 所需材料\n\n- 身份证\n- 照片\n\n"
        "## 办理流程\n\n先挂失。再到窗口补办。\n",
        encoding="utf-8",
    )
    (tmp_path / "sources.csv").write_text(
        "file,url,title,updated\ncard.md,https://zwfw.example.org/guide/card,社保卡补办指南,2026-10-01\n",
        encoding="utf-8",
    )
    passages = read_file(tmp_path / "card.md").passages
    assert [(p.section, p.text) for p in passages] == [
        ("所需材料", "- 身份证\n- 照片"),
        ("办理流程", "先挂失。再到窗口补办。"),
    ]
    assert {p.title for p in passages} == {"社保卡补办指南"}
    assert (
        passages[0].url
        == "https://zwfw.example.org/guide/card#:~:text=%E6%89%80%E9%9C%80%E6%9D%90%E6%96%99"
    )
    assert passages[0].updated == dt.date(2026, 10, 1)


def test_a_docx_keeps_its_headings_and_list_items(tmp_path: Path):
    path = files.docx(
        tmp_path / "birth.docx",
        [("h1", "生育津贴申领"), ("p", "参保职工生育后可以申领生育津贴。"), ("h2", "申领材料"),
         ("item", "身份证"), ("item", "出生医学证明")],
        title="生育津贴申领指南",
    )  # fmt: skip
    read = read_file(path)
    assert read.report.kind == "docx" and not read.report.problems
    assert [(p.section, p.text) for p in read.passages] == [
        ("生育津贴申领", "参保职工生育后可以申领生育津贴。"),
        ("申领材料", "- 身份证\n- 出生医学证明"),
    ]
    assert read.passages[0].title == "生育津贴申领指南"


def test_a_pdf_text_layer_is_cut_by_its_numbered_headings_and_linked_by_page(tmp_path: Path):
    path = files.pdf(
        tmp_path / "policy.pdf",
        ["一、适用范围\n本办法适用于在本市居住的外国人。\n二、申请条件\n（1）持有效护照；\n（2）有合法住所。",
         "三、办理时限\n受理后七个工作日内办结。"],
        title="外国人居留许可办理办法",
    )  # fmt: skip
    (tmp_path / "sources.csv").write_text(
        "file,url,title\npolicy.pdf,https://zwfw.example.org/docs/policy.pdf,\n", encoding="utf-8"
    )
    read = read_file(path)
    assert not read.report.problems
    assert [p.section for p in read.passages] == ["一、适用范围", "二、申请条件", "三、办理时限"]
    assert read.passages[1].text == "（1）持有效护照；\n（2）有合法住所。"
    assert read.passages[0].title == "外国人居留许可办理办法"
    assert read.passages[0].url == "https://zwfw.example.org/docs/policy.pdf#page=1"
    assert read.passages[2].url == "https://zwfw.example.org/docs/policy.pdf#page=2"


def test_plain_text_in_gbk(tmp_path: Path):
    text = (
        "养老金领取说明\n\n第一章 领取条件\n"
        "达到法定退休年龄、缴费满十五年的，可以按月领取基本养老金。\n"
    )
    (tmp_path / "pension.txt").write_bytes(text.encode("gbk"))
    read = read_file(tmp_path / "pension.txt")
    assert not read.report.problems
    (passage,) = read.passages
    assert passage.title == "养老金领取说明" and passage.section == "第一章 领取条件"
    assert passage.text.startswith("达到法定退休年龄")


# -- passages --------------------------------------------------------------------------------


def test_long_sections_are_cut_at_chinese_sentence_ends_within_bounds(tmp_path: Path):
    sentences = [
        f"第{n}项规定：申请人应当在规定期限内提交材料并按要求办理相关手续。" for n in range(40)
    ]
    (tmp_path / "long.md").write_text(
        "# 办事须知\n\n## 注意事项\n\n" + "".join(sentences), encoding="utf-8"
    )
    passages = read_file(tmp_path / "long.md", ReadOptions(passage_chars=200)).passages
    assert len(passages) > 5
    assert all(len(p.text) <= 200 for p in passages)
    assert all(p.text.endswith("。") for p in passages)
    assert "".join(p.text for p in passages) == "".join(sentences)
    assert {p.section for p in passages} == {"注意事项"}


def test_passage_ids_are_unique_and_stable_across_reads(tmp_path: Path):
    (tmp_path / "rp.html").write_text(page(), encoding="utf-8")
    first = [p.id for p in read_file(tmp_path / "rp.html").passages]
    again = [p.id for p in read_file(tmp_path / "rp.html").passages]
    assert first == again and len(set(first)) == len(first)


# -- a whole base ----------------------------------------------------------------------------


def entry_line(**changes: object) -> str:
    entry = {
        "id": "residence-permit-apply", "category": "residence_permit",
        "question": "居住证怎么办理？",
        "answer": "在居住地居住半年以上即可申领。", "updated": "2026-06-01",
        "source": {"title": "居住证申领指南（示例）", "url": "https://zwfw.example.org/rp"},
    }  # fmt: skip
    return json.dumps({**entry, **changes}, ensure_ascii=False)


def test_a_folder_of_every_kind_loads_entries_passages_and_reports(tmp_path: Path):
    (tmp_path / "curated.jsonl").write_text(entry_line() + "\n", encoding="utf-8")
    files.xlsx(tmp_path / "faq.xlsx", [["问题", "答案"], ["社保卡丢了怎么办？", "先挂失再补办。"]])
    guides = tmp_path / "guides"
    guides.mkdir()
    (guides / "rp.html").write_text(page(), encoding="utf-8")
    (guides / "notes.txt").write_text("补办须知\n\n请携带身份证原件。", encoding="utf-8")
    knowledge = load([tmp_path])
    assert {e.question for e in knowledge.entries} == {"居住证怎么办理？", "社保卡丢了怎么办？"}
    assert {p.file for p in knowledge.passages} == {
        str(guides / "rp.html"),
        str(guides / "notes.txt"),
    }
    kinds = {Path(r.file).name: (r.kind, r.entries, r.passages) for r in knowledge.sources}
    assert kinds == {
        "curated.jsonl": ("entries", 1, 0),
        "faq.xlsx": ("sheet", 1, 0),
        "rp.html": ("html", 0, 3),
        "notes.txt": ("txt", 0, 1),
    }
    assert all(r.read_at is not None for r in knowledge.sources)


def test_curated_jsonl_stays_strict_while_imported_files_are_reported(tmp_path: Path):
    (tmp_path / "curated.jsonl").write_text(entry_line() + "\n", encoding="utf-8")
    files.xlsx(
        tmp_path / "faq.xlsx", [["问题", "答案"], ["", "没有问题的答案"], ["好问题？", "好答案。"]]
    )
    knowledge = load([tmp_path])
    (sheet,) = [r for r in knowledge.sources if r.kind == "sheet"]
    assert sheet.entries == 1 and sheet.problems == [
        f"{tmp_path / 'faq.xlsx'}:常见问题!2: 问题/question is empty; the row was skipped"
    ]
    (tmp_path / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"bad\.jsonl:1: not valid JSON"):
        load([tmp_path])


def test_a_sheet_row_reusing_a_curated_id_is_skipped_and_reported(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text(entry_line() + "\n", encoding="utf-8")
    files.xlsx(
        tmp_path / "b.xlsx", [["id", "question", "answer"], ["residence-permit-apply", "Q?", "A."]]
    )
    knowledge = load([tmp_path])
    assert len(knowledge.entries) == 1
    (sheet,) = [r for r in knowledge.sources if r.kind == "sheet"]
    assert (
        sheet.entries == 0
        and "already used at" in sheet.problems[0]
        and "a.jsonl:1" in sheet.problems[0]
    )


def test_a_base_of_documents_only_loads(tmp_path: Path):
    (tmp_path / "rp.html").write_text(page(), encoding="utf-8")
    knowledge = load([tmp_path])
    assert not knowledge.entries and len(knowledge.passages) == 3
