"""A model read from the Hugging Face Hub or from files on the user's own machine.

Both sources read headers only (sizing.sources), and only when the user asks:
the fields sit in a form, so typing reruns nothing, and a repository or path is
read when the form is submitted. A link naming a repository fills the fields;
the user reads it with one press. What was read is kept in the session, so
later reruns and pages read nothing again; a failure is one line under the
form and every field keeps its text.

Multi-GB weight files cannot go through a browser upload, so the "file" source
takes a path, and only when the server listens on this machine alone
(``server.address`` 127.0.0.1 or localhost): then the browser and the files are
on the same computer. Elsewhere the path field is replaced by a line pointing
to the Hugging Face id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from catalog.catalog import Catalog
from catalog.errors import UserError
from catalog.printable import printable
from catalog.schema import ModelArch
from pages._state import bind, lang, memo, store
from pages._text import plain, t
from report.text import DEFAULT_LANGUAGE, translate_notice
from sizing.request import parse_request, read_model_files
from sizing.sources import ReadModel
from sizing.units import bytes_to_gib

READ_KEY = "read_model"  # in the session memo: {source: (what, ReadModel | None, error | None)}
PATH_KEY = "w_model_path"  # local paths stay in the session, out of the link
MMPROJ_KEY = "w_model_mmproj"
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")


def local_files_allowed() -> bool:
    """Whether the server listens on this machine only, so a path is the user's own."""
    return str(st.get_option("server.address") or "") in LOCAL_ADDRESSES


def file_request_fields(path: str, mmproj: str = "") -> dict[str, str]:
    """The request fields that name a local model: a GGUF (with its projector) or safetensors."""
    path = path.strip()
    if path.lower().endswith(".gguf"):
        return {"gguf": path, **({"mmproj": mmproj.strip()} if mmproj.strip() else {})}
    return {"safetensors": path}


def hub_request_fields(hf_id: str, revision: str = "", hf_file: str = "") -> dict[str, str]:
    """The request fields that name a Hub repository (empty revision and file left out)."""
    fields = {"hf_id": hf_id.strip(), "revision": revision.strip(), "hf_file": hf_file.strip()}
    return {k: v for k, v in fields.items() if v}


def read_model(fields: dict[str, str], cat: Catalog,
               language: str = DEFAULT_LANGUAGE) -> tuple[ReadModel | None, str | None]:
    """The model the fields name, or None and the engine's one line (in ``language``) on why not."""
    try:
        return read_model_files(parse_request(fields), cat), None
    except UserError as exc:
        return None, translate_notice(exc, language)


def _read(source: str, fields: dict[str, str], cat: Catalog, *,
          pressed: bool) -> tuple[ReadModel | None, str | None]:
    """What ``fields`` name: read when the user pressed the button, else as read before.

    Neither read nor pressed: (None, None). A failed read is tried again on the next press.
    """
    kept = memo().setdefault(READ_KEY, {})
    what = tuple(sorted(fields.items()))
    known = kept.get(source)
    if pressed and (known is None or known[0] != what or known[2] is not None):
        with st.spinner(t("inputs.reading")):
            read, error = read_model(fields, cat, lang())
        known = kept[source] = (what, read, error)
    if known is None or known[0] != what:
        return None, None
    return known[1], known[2]


def hub_input(cat: Catalog, data: dict[str, Any]) -> ReadModel | None:
    """The Hugging Face id form; the model it read, put in ``data``, or None."""
    sb = st.sidebar
    with sb.form("hf_form", border=False):
        hf_id = st.text_input(t("inputs.hf_id"), key=bind("hf_id"), max_chars=200,
                              placeholder="zai-org/AutoGLM-Phone-9B", help=t("inputs.hf_id_help"))
        revision = st.text_input(t("inputs.revision"), key=bind("revision"), max_chars=200,
                                 placeholder="main", help=t("inputs.revision_help"))
        hf_file = st.text_input(t("inputs.hf_file"), key=bind("hf_file"), max_chars=200,
                                placeholder="Q4_K_M", help=t("inputs.hf_file_help"))
        pressed = st.form_submit_button(t("inputs.hf_read"), icon=":material/cloud_download:")
    store("hf_id", hf_id.strip())
    store("revision", revision.strip())
    store("hf_file", hf_file.strip())
    if not hf_id.strip():
        return None
    fields = hub_request_fields(hf_id, revision, hf_file)
    read, error = _read("hf", fields, cat, pressed=pressed)
    return _shown(read, error, fields, data)


def file_input(cat: Catalog, data: dict[str, Any]) -> ReadModel | None:
    """The local path form (only on the user's own machine); the model it read, or None."""
    sb = st.sidebar
    if not local_files_allowed():
        sb.warning(t("inputs.file_not_local"), icon=":material/lock:")
        return None
    with sb.form("file_form", border=False):
        path = st.text_input(t("inputs.file_path"), key=PATH_KEY, max_chars=1000,
                             placeholder="~/models/model-Q4_K_M.gguf", help=t("inputs.file_path_help"))
        mmproj = st.text_input(t("inputs.file_mmproj"), key=MMPROJ_KEY, max_chars=1000,
                               placeholder="~/models/mmproj-model-f16.gguf",
                               help=t("inputs.file_mmproj_help"))
        pressed = st.form_submit_button(t("inputs.file_read"), icon=":material/folder_open:")
    sb.caption(t("inputs.file_not_in_link"))
    if not path.strip():
        return None
    expanded = str(Path(path.strip()).expanduser())
    fields = file_request_fields(expanded, str(Path(mmproj.strip()).expanduser()) if mmproj.strip()
                                 else "")
    read, error = _read("file", fields, cat, pressed=pressed)
    return _shown(read, error, fields, data)


def _shown(read: ReadModel | None, error: str | None, fields: dict[str, str],
           data: dict[str, Any]) -> ReadModel | None:
    """Say what went wrong in one line, or show what was read and name it in the request."""
    if error is not None:
        st.sidebar.error(plain(t("inputs.read_failed", message=error)), icon=":material/error:")
    if read is None:
        return None
    data.update(fields)
    show_read_model(read, st.sidebar)
    return read


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def read_config_rows(arch: ModelArch) -> list[dict[str, str]]:
    """What was read from an uploaded config.json, one labelled row per figure."""
    experts = (t("inputs.read_experts_value", experts=arch.num_experts,
                 per_token=arch.num_experts_per_token) if arch.num_experts
               else t("inputs.read_dense"))
    shown = [("inputs.read_name", arch.name),
             ("inputs.read_params", f"{arch.params_total / 1e9:,.2f} B"
              + (f" ({arch.params_active / 1e9:,.2f} B {t('inputs.read_active')})"
                 if arch.params_active < arch.params_total else "")),
             ("inputs.read_layers", f"{arch.num_layers:,}"),
             ("inputs.read_heads", f"{arch.num_attention_heads:,}"),
             ("inputs.read_kv_heads", f"{arch.num_kv_heads:,}"),
             ("inputs.read_head_dim", f"{arch.head_dim:,}"),
             ("inputs.read_context", f"{arch.max_context_tokens:,}"),
             ("inputs.read_experts", experts)]
    return [{t("inputs.read_what"): t(key), t("inputs.read_value"): printable(value)}
            for key, value in shown]


def read_model_rows(read: ReadModel) -> list[dict[str, str]]:
    """What was read: where from, the shapes, each tensor type with its share, the projector."""
    facts = read.facts
    what, value = t("inputs.read_what"), t("inputs.read_value")
    rows = [{what: t("inputs.read_source"), value: read.label}]
    if facts.get("architecture"):
        rows.append({what: t("inputs.read_architecture"), value: str(facts["architecture"])})
    rows += read_config_rows(read.arch)
    if read.quant:
        rows.append({what: t("inputs.read_quant"), value: read.quant})
    types: dict[str, int] = dict(facts.get("types") or {})  # type: ignore[arg-type]
    total = float(sum(types.values()))
    for name, size in types.items():
        rows.append({what: t("inputs.read_tensor_type", type=name),
                     value: f"{bytes_to_gib(size):,.2f} GiB ({_share(size, total)})"})
    by_dtype: dict[str, float] = dict(facts.get("params_by_dtype") or {})  # type: ignore[arg-type]
    if by_dtype and not types:
        params = float(sum(by_dtype.values()))
        for name, count in by_dtype.items():
            rows.append({what: t("inputs.read_params_dtype", type=name),
                         value: f"{count / 1e9:,.2f} B ({_share(count, params)})"})
    projector = facts.get("projector_bytes") or facts.get("vision_bytes")
    if projector:
        kind = facts.get("projector_type")
        rows.append({what: t("inputs.read_projector"),
                     value: f"{bytes_to_gib(float(projector)):,.2f} GiB"  # type: ignore[arg-type]
                     + (f" ({kind})" if kind else "")})
    elif read.arch.vision is not None:
        rows.append({what: t("inputs.read_projector"),
                     value: t("inputs.read_projector_layers", layers=read.arch.vision.layers)})
    if facts.get("revision"):
        rows.append({what: t("inputs.read_revision"), value: str(facts["revision"])[:12]})
    return [{what: printable(row[what]), value: printable(row[value])} for row in rows]


def show_read_model(read: ReadModel, container: Any) -> None:
    """The figures read from the files or the Hub, for the user to check."""
    container.caption(t("inputs.read_files_header"))
    container.dataframe(read_model_rows(read), hide_index=True, key="model_read")

