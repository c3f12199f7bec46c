""""What can I run": the ranked table of one machine, as text in the user's language.

Built once here, shown by the page, the report section and nothing else: the
sentence answering one model, one line per size class (does the class run on
the GPU, only with offload, or not at all, and its best-ranked model), and the
table's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.quality import load_quality
from report.content import Section, Source, Table
from report.formats import number_text
from report.text import translate
from sizing.fits import FitRow, FitTable

# Size classes by total parameters [billions]: what a hobbyist asks about
# ("a 7B", "a 14B", "a 32B"). Upper bounds are exclusive.
SIZE_CLASSES: tuple[tuple[str, float, float], ...] = (
    ("tiny", 0.0, 4.5),  # up to the 3-4B class
    ("small", 4.5, 10.0),  # 7-9B
    ("medium", 10.0, 17.0),  # 12-16B
    ("large", 17.0, 40.0),  # 20-35B, the 30B MoE models
    ("huge", 40.0, float("inf")),  # 70B and up
)


def size_class(params_b: float) -> str:
    """The size class of a model with ``params_b`` billion parameters.

    >>> size_class(7.6), size_class(14.8), size_class(32.8)
    ('small', 'medium', 'large')
    """
    return next(name for name, low, high in SIZE_CLASSES if low <= params_b < high)


def board_name(board: str | None, lang: str) -> str:
    """The name of the leaderboard a row's quality is on ("unknown" where none is)."""
    if board is None:
        return translate("fits.unknown", lang)
    return load_quality().leaderboard(board).name


def speed_text(value: float | None) -> str:
    return number_text(value, 1 if value is not None and value < 100 else 0)


def row_sentence(row: FitRow, lang: str) -> str:
    """One model's answer: format, runtime, speeds, context, offload and quality."""
    where = (translate("fits.where_offload", lang, gpu_layers=row.gpu_layers, layers=row.num_layers)
             if row.offload else translate("fits.where_gpu", lang))
    quality = (translate("fits.quality_known", lang, score=f"{row.quality:g}",
                         board=board_name(row.quality_board, lang))
               if row.quality is not None else translate("fits.quality_unknown", lang))
    return translate("fits.row_sentence", lang, model=row.model_name, quant=row.quant.upper(),
                     runtime=row.runtime, decode=speed_text(row.decode_tokens_per_s),
                     prefill=speed_text(row.prefill_tokens_per_s),
                     context=f"{row.max_context_tokens:,}", where=where, quality=quality)


def model_answer(table: FitTable, model_id: str, lang: str) -> str:
    """The sentence for one model: its best-ranked row, that a use with images does not list
    it (it reads none), or that it does not run."""
    row = next((r for r in table.rows if r.model == model_id), None)
    if row is None and table.images and model_id not in table.not_running:
        return translate("fits.not_listed_images", lang, model=model_id,
                         use=translate(f"fits.use_{table.use}", lang))
    if row is None:
        return translate("fits.does_not_run", lang, model=model_id)
    return row_sentence(row, lang)


@dataclass(frozen=True)
class ClassLine:
    """A size class's answer: "gpu" (something runs on the GPU), "offload" (only with
    offload) or "none"; its best-ranked row; the sentence."""

    key: str
    status: str
    best: FitRow | None
    text: str


def class_lines(table: FitTable, lang: str) -> list[ClassLine]:
    """One line per size class, in size order."""
    out = []
    for key, low, high in SIZE_CLASSES:
        rows = [r for r in table.rows if low <= r.params_b < high]
        status = ("none" if not rows else "gpu" if any(not r.offload for r in rows)
                  else "offload")
        # The best-ranked row on the GPU where one runs there, else the best-ranked.
        best = next((r for r in rows if not r.offload), rows[0] if rows else None)
        label = translate(f"fits.class_{key}", lang)
        text = translate(f"fits.class_status_{status}", lang, size=label)
        if best is not None:
            text += " " + translate("fits.class_best", lang, answer=row_sentence(best, lang))
        out.append(ClassLine(key=key, status=status, best=best, text=text))
    return out


def machine_text(table: FitTable, lang: str) -> str:
    """The machine and use the table answers for, in one sentence."""
    values = {"count": table.gpu_count, "gpu": table.gpu_name, "memory": f"{table.gpu_memory_gib:g}",
              "ram": f"{table.ram_gib:g}", "use": translate(f"fits.use_{table.use}", lang)}
    return translate("fits.machine_unified" if table.unified else "fits.machine", lang, **values)


def speed_unknown_text(table: FitTable, lang: str) -> str | None:
    """Why the table has no speeds: the GPU's memory bandwidth is not published (None: it is)."""
    if not table.speed_unknown_reason:
        return None
    return translate("engine.speed_unknown_bandwidth", lang, gpu=table.gpu_name)


def images_text(table: FitTable, lang: str) -> str | None:
    """The images each request carries (vision: a photo; agent: the phone screenshot), how
    they are counted, and that only models reading images are listed (None: a use without
    images)."""
    if not table.images:
        return None
    return translate(f"fits.{table.use}_images", lang, images=table.images,
                     width=table.image_width_px, height=table.image_height_px)


def rule_text(lang: str) -> str:
    """The ranking rule and the quality source, in words."""
    return translate("fits.rule", lang)


def fits_section(table: FitTable, lang: str, *, top: int = 15) -> Section:
    """The report section: the machine, one line per size class, the top rows."""
    images = bool(table.images)
    keys = ("model", "quant", "runtime", "decode", "prefill", "context",
            *(("image_tokens",) if images else ()), "offload", "quality", "board")
    columns = tuple(translate(f"fits.col_{c}", lang) for c in keys)
    rows = tuple((r.model_name, r.quant.upper(), r.runtime, speed_text(r.decode_tokens_per_s),
                  speed_text(r.prefill_tokens_per_s), f"{r.max_context_tokens:,}",
                  *((f"{r.image_tokens:,}",) if images else ()),
                  translate("fits.yes" if r.offload else "fits.no", lang),
                  f"{r.quality:g}" if r.quality is not None else translate("fits.unknown", lang),
                  board_name(r.quality_board, lang))
                 for r in table.rows[:top])
    sources = {r.quality_source.rsplit(": ", 1)[-1] for r in table.rows[:top] if r.quality_source}
    images_note = images_text(table, lang)
    return Section(
        key="fits", heading=translate("fits.title", lang), intro=machine_text(table, lang),
        tables=(Table(columns=columns, rows=rows,
                      numeric=tuple(k in ("decode", "prefill", "context", "image_tokens", "quality")
                                    for k in keys)),),
        notes=(*((images_note,) if images_note else ()), *(line.text for line in class_lines(table, lang)),
               rule_text(lang)),
        sources=tuple(Source(label=url, url=url) for url in sorted(sources)))
