"""Building the files a web team has, with the libraries that write them: workbooks with
openpyxl, Word documents with python-docx, PDFs with fpdf2 (in a CJK font, so pypdf reads
real Chinese text back) and pypdf (encrypted)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: Debian's fonts-noto-cjk (scripts/system-packages); face 2 of the collection is Simplified
#: Chinese.
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def xlsx(
    path: Path, rows: Sequence[Sequence[object]], *, sheet: str = "常见问题", title: str = ""
) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    if title:
        workbook.properties.title = title
    workbook.save(path)
    return path


def docx(path: Path, parts: Sequence[tuple[str, str]], *, title: str = "") -> Path:
    """``parts``: ``(style, text)``, style ``h1``/``h2``, ``item`` or ``p``."""
    import docx as python_docx

    document = python_docx.Document()
    for style, text in parts:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        elif style == "item":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    if title:
        document.core_properties.title = title
    document.save(str(path))
    return path


def pdf(path: Path, pages: Sequence[str], *, title: str = "") -> Path:
    from fpdf import FPDF

    document = FPDF()
    document.add_font("noto", fname=str(CJK_FONT), collection_font_number=2)
    document.set_font("noto", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    if title:
        document.set_title(title)
    document.output(str(path))
    return path


def image_only_pdf(path: Path) -> Path:
    """A scan: a page that is one picture, with no text layer."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_fill_color(40, 40, 40)
    for row in range(20):
        document.rect(20, 20 + row * 10, 120 - row * 3, 4, style="F")
    document.output(str(path))
    return path


def encrypted_pdf(
    source: Path, path: Path, password: str = "secret", owner_only: bool = False
) -> Path:
    """``owner_only``: opens without a password (only printing or copying is restricted)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(
        user_password="" if owner_only else password, owner_password="owner", algorithm="AES-128"
    )
    writer.write(str(path))
    return path
