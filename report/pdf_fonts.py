"""Noto Sans CJK for the PDF, cut down to the characters a report's own words use.

A Noto Sans CJK face holds 65,535 glyphs: fpdf2 reads every glyph's width when
the face is added and subsets the outlines when the PDF is written, about
0.6 s of CPU per face and report. A report's text is nearly all the string
catalog's and the data catalog's own words, so each face is cut once to those
characters (plus Latin, punctuation, arrows, maths and CJK symbols) with
fontTools and kept in the user's cache folder, named by a hash of the source
font file and the character set: a changed font or new words make a new cut.
The PDF writer lays a report out with the cut faces and, when its text holds
a character the cut lacks (a model name in another script), lays it out again
with the full faces.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

from catalog.loader import CATALOG_DIR, cache_dir
from report.text import LOCALES_DIR

CUT_FORMAT = 1  # raise when the cut is made differently
# Always kept: ASCII and Latin-1 to Latin Extended-B, general punctuation (• … — ‑),
# letter-like symbols, arrows and mathematical operators, CJK symbols and
# punctuation, and the full-width forms. [Unicode code point ranges, end excluded]
BASE_RANGES = ((0x20, 0x250), (0x2000, 0x2070), (0x2100, 0x2300), (0x3000, 0x3040),
               (0xFF00, 0xFFF0))
# Tables a PDF without text shaping does not use, dropped from the cut (fpdf2 drops
# the layout tables itself when it subsets); the vertical metrics are for vertical text.
DROPPED_TABLES = ("GSUB", "GPOS", "GDEF", "VORG", "vhea", "vmtx")


@functools.cache
def known_chars() -> frozenset[str]:
    """Every character of the string catalogs and the data catalog, and the base ranges."""
    files = sorted([*LOCALES_DIR.glob("*.yaml"), *CATALOG_DIR.glob("*.yaml")])
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    base = (chr(code) for low, high in BASE_RANGES for code in range(low, high))
    return frozenset(ch for ch in (*text, *base) if ch.isprintable())


def cut_key(path: Path, index: int, chars: frozenset[str]) -> str:
    """A hash of the source face (file, size, modification time, face number), the
    characters kept and the fontTools version that cuts it."""
    from fontTools import version

    stat = path.stat()
    digest = hashlib.sha256(f"{CUT_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|"
                            f"{index}|{version}|".encode())
    digest.update("".join(sorted(chars)).encode("utf-8"))
    return digest.hexdigest()


def cut_font(path: str, index: int, *, cache: Path | None = None) -> tuple[str, int]:
    """(path, face number) of face ``index`` of ``path`` cut to :func:`known_chars`,
    made on first use; the full face when there is no cache folder to keep it in.
    ``cache`` defaults to :func:`catalog.loader.cache_dir`."""
    folder = cache if cache is not None else cache_dir()
    if folder is None:
        return path, index
    chars = known_chars()
    prefix = f"font-{Path(path).stem}-{index}-"
    cut = folder / f"{prefix}{cut_key(Path(path), index, chars)[:32]}.otf"
    if cut.is_file():
        return str(cut), 0
    try:
        _write_cut(Path(path), index, chars, folder, cut)
        for old in folder.glob(f"{prefix}*.otf"):  # cuts of older fonts or words
            if old != cut:
                old.unlink(missing_ok=True)
    except OSError:
        return path, index  # a read-only or full cache folder: the full face works
    return str(cut), 0


def _write_cut(source: Path, index: int, chars: frozenset[str], folder: Path, cut: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=index, lazy=True, recalcTimestamp=False)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, layout_features=[],
                             name_IDs=["*"], name_languages=["*"])
    options.drop_tables += list(DROPPED_TABLES)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(ch) for ch in chars})
    subsetter.subset(font)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".font-", suffix=".otf",
                                     delete=False) as handle:
        font.save(handle)
    os.replace(handle.name, cut)
