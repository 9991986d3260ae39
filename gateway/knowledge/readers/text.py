"""Bytes to text: the declared charset when it fits, else what charset-normalizer finds.

Government pages and CSV exports are often GBK (declared as ``gb2312``, whose superset
GB18030 is read instead, as browsers do) and sometimes declare a charset their bytes are not
in; the text is read anyway and the mismatch reported, so the operator can fix the file.
"""

from __future__ import annotations

import codecs

import charset_normalizer
from w3lib.encoding import read_bom, resolve_encoding


def decode(data: bytes, declared: str | None = None) -> tuple[str | None, str | None]:
    """``(text, problem)``: ``text`` is None when the bytes are no text at all; ``problem``
    says when the declared charset did not fit (the text is still read)."""
    bom, _ = read_bom(data)
    if bom:
        return data.decode(bom, errors="replace").lstrip("\ufeff"), None
    wanted = _known(declared) if declared else None
    problem = f"declares the unknown charset {declared!r}" if declared and not wanted else None
    # UTF-8 first: GBK bytes are almost never valid UTF-8, while UTF-8 bytes often are valid
    # (and wrong) GB18030.
    for encoding in ["utf-8", wanted] if wanted and wanted != "utf-8" else ["utf-8"]:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if wanted and encoding != wanted and not data.isascii():
            problem = f"declares the charset {declared}, but its bytes are UTF-8; read as UTF-8"
        return text, problem
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None, "not text in any charset charset-normalizer knows"
    found = resolve_encoding(best.encoding) or best.encoding
    if wanted:
        problem = f"declares the charset {declared}, but its bytes are not; read as {found}"
    return str(best), problem


def _known(name: str) -> str | None:
    resolved = resolve_encoding(name)
    if resolved is None:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None
