"""Bad input: each problem reported by file (and row), the rest of the base imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.knowledge.entries import KnowledgeBaseError, load
from gateway.knowledge.readers import ReadOptions, read_file
from tests.gateway.knowledge import files

GOOD_PAGE = (
    '<html><head><meta charset="utf-8"><title>护照办理</title></head><body><main><h1>护照办理</h1>'
    "<h2>办理条件</h2><p>中国公民因私出国可以申请普通护照，请携带身份证到出入境窗口办理。</p></main></body></html>"
)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A folder with one good page, to which each test adds a bad file."""
    (tmp_path / "good.html").write_text(GOOD_PAGE, encoding="utf-8")
    return tmp_path


def problems_of(base: Path, name: str) -> list[str]:
    knowledge = load([base])
    assert [p.file for p in knowledge.passages if p.file.endswith("good.html")], "good page lost"
    (report,) = [r for r in knowledge.sources if Path(r.file).name == name]
    assert report.entries == report.passages == 0
    return report.problems


def test_a_corrupt_pdf(base: Path):
    (base / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%% cut off here")
    (problem,) = problems_of(base, "broken.pdf")
    assert problem.startswith(f"{base / 'broken.pdf'}: not a readable PDF")


def test_a_pdf_that_is_not_one_at_all(base: Path):
    (base / "page.pdf").write_bytes(b"<html>404 Not Found</html>")
    (problem,) = problems_of(base, "page.pdf")
    assert "not a readable PDF" in problem


def test_an_encrypted_pdf_needs_a_password(base: Path, tmp_path_factory):
    plain = files.pdf(tmp_path_factory.mktemp("src") / "p.pdf", ["一、办理条件\n持有效身份证件。"])
    files.encrypted_pdf(plain, base / "locked.pdf")
    (problem,) = problems_of(base, "locked.pdf")
    assert "locked.pdf: encrypted: it needs a password" in problem


def test_a_pdf_encrypted_only_against_copying_is_read(tmp_path: Path):
    plain = files.pdf(tmp_path / "p.pdf", ["一、办理条件\n持有效身份证件。"])
    read = read_file(files.encrypted_pdf(plain, tmp_path / "restricted.pdf", owner_only=True))
    assert not read.report.problems and read.passages[0].text == "持有效身份证件。"


def test_an_image_only_pdf_says_ocr_is_not_configured(base: Path):
    files.image_only_pdf(base / "scan.pdf")
    (problem,) = problems_of(base, "scan.pdf")
    assert (
        "scan.pdf: no text layer on its 1 page(s)" in problem and "OCR is not configured" in problem
    )


def test_a_file_over_the_size_cap_is_not_read(base: Path):
    (base / "huge.txt").write_text("很长的文件。" * 2000, encoding="utf-8")
    read = read_file(base / "huge.txt", ReadOptions(max_file_bytes=10_000))
    (problem,) = read.report.problems
    assert "huge.txt: 0.0 MB, over the limit" in problem and "max_file_bytes" in problem
    assert not read.passages


def test_the_size_cap_comes_from_the_configuration(base: Path):
    from gateway.config import KnowledgeConfig

    (base / "huge.txt").write_text("很长的文件。" * 2000, encoding="utf-8")
    knowledge = load([base], KnowledgeConfig(max_file_bytes=10_000))
    (report,) = [r for r in knowledge.sources if r.file.endswith("huge.txt")]
    assert "over the limit" in report.problems[0]


def test_a_sheet_without_an_answer_column(base: Path):
    files.xlsx(base / "faq.xlsx", [["问题", "备注"], ["社保卡怎么办？", "无"]])
    (problem,) = problems_of(base, "faq.xlsx")
    assert f"{base / 'faq.xlsx'}:常见问题!1: no 答案/answer column" in problem
    assert "问题, 备注" in problem


def test_sheet_rows_with_bad_values_are_reported_by_row(base: Path):
    files.xlsx(
        base / "faq.xlsx",
        [["问题", "答案", "链接", "更新日期"], ["好问题？", "好答案。", "", ""],
         ["坏链接？", "答案。", "javascript:alert(1)", ""], ["坏日期？", "答案。", "", "去年"],
         ["没有答案？", None, "", ""]],
    )  # fmt: skip
    knowledge = load([base])
    (report,) = [r for r in knowledge.sources if r.kind == "sheet"]
    assert report.entries == 1 and [e.question for e in knowledge.entries] == ["好问题？"]
    where = f"{base / 'faq.xlsx'}:常见问题!"
    assert [p.split(":", 2)[1] for p in report.problems] == [
        "常见问题!3",
        "常见问题!4",
        "常见问题!5",
    ]
    assert report.problems[0].startswith(f"{where}3: source.url:")
    assert report.problems[1].startswith(f"{where}4: updated:")
    assert report.problems[2] == f"{where}5: 答案/answer is empty; the row was skipped"


def test_a_corrupt_workbook(base: Path):
    (base / "faq.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (problem,) = problems_of(base, "faq.xlsx")
    assert "not a readable .xlsx workbook" in problem


def test_a_sheet_with_only_its_header(base: Path):
    files.xlsx(base / "faq.xlsx", [["问题", "答案"]])
    assert problems_of(base, "faq.xlsx") == [
        f"{base / 'faq.xlsx'}: empty: no rows under the header"
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.md", b""),
        ("blank.txt", b"\n\n   \n"),
        (
            "shell.html",
            b"<html><head><title>x</title><script>var a = 1;</script></head><body></body></html>",
        ),
    ],
)
def test_an_empty_document(base: Path, name: str, content: bytes):
    (base / name).write_bytes(content)
    (problem,) = problems_of(base, name)
    assert problem.startswith(f"{base / name}: empty: no ")


def test_an_empty_docx(base: Path):
    files.docx(base / "empty.docx", [])
    (problem,) = problems_of(base, "empty.docx")
    assert problem.endswith("empty.docx: empty: no text in it")


def test_a_corrupt_docx(base: Path):
    (base / "bad.docx").write_bytes(b"not a zip at all")
    (problem,) = problems_of(base, "bad.docx")
    assert "not a readable .docx file" in problem


def test_binary_noise_as_text(base: Path):
    (base / "noise.txt").write_bytes(bytes(range(256)) * 8)
    (problem,) = problems_of(base, "noise.txt")
    assert "noise.txt: not text" in problem


def test_old_office_formats_say_what_to_do(base: Path):
    (base / "guide.doc").write_bytes(b"\xd0\xcf\x11\xe0 old word")
    (problem,) = problems_of(base, "guide.doc")
    assert "old .doc format is not read; save it as .docx" in problem


def test_a_sources_listing_with_bad_rows(base: Path):
    (base / "sources.csv").write_text(
        "file,url,title\ngood.html,ftp://zwfw.example.org/x,护照\ngone.html,https://zwfw.example.org/g,没了\n",
        encoding="utf-8",
    )
    knowledge = load([base])
    (report,) = [r for r in knowledge.sources if r.kind == "sources"]
    assert report.problems == [
        f"{base / 'sources.csv'}:2: url: 'ftp://zwfw.example.org/x' is not http(s); ignored",
        f"{base / 'sources.csv'}: gone.html: no such file beside it",
    ]
    (passage,) = [p for p in knowledge.passages if p.file.endswith("good.html")]
    assert passage.title == "护照" and passage.url == ""


def test_problems_are_logged_as_warnings(base: Path, caplog):
    (base / "scan.pdf").write_bytes(b"garbage")
    with caplog.at_level("WARNING", logger="gateway.knowledge"):
        load([base])
    assert any("scan.pdf: not a readable PDF" in r.getMessage() for r in caplog.records)


def test_a_base_where_nothing_could_be_read_does_not_load(tmp_path: Path):
    (tmp_path / "scan.pdf").write_bytes(b"garbage")
    with pytest.raises(KnowledgeBaseError, match="no entries and no passages"):
        load([tmp_path])
