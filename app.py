"""RigFit app frame: memory verdict for one model, quant and GPU."""

from __future__ import annotations

import streamlit as st

from catalog.catalog import load_catalog
from sizing.estimate import estimate
from sizing.request import RequestError, parse_request
from sizing.units import bytes_to_gib

st.set_page_config(page_title="RigFit", layout="wide")
catalog = st.cache_resource(load_catalog)()

st.title("RigFit")
model_ids = [m.id for m in catalog.models]
gpu_ids = [g.id for g in catalog.gpus]
quant_ids = [q.id for q in catalog.quants]
col1, col2, col3 = st.columns(3)
model = col1.selectbox("Model", model_ids, index=model_ids.index("llama-3.1-8b"))
quant = col2.selectbox("Quant", quant_ids, index=quant_ids.index("q4_k_m"))
gpu = col3.selectbox("GPU", gpu_ids, index=gpu_ids.index("rtx-4090"))
context = st.number_input("Context tokens", min_value=1, value=8192, step=1024)

try:
    result = estimate(parse_request({"model": model, "quant": quant, "gpu": gpu,
                                     "context_tokens": int(context), "prompt_tokens": 512,
                                     "new_tokens": 512}), catalog)
except (RequestError, ValueError) as exc:
    st.error(str(exc))
else:
    mem = result.memory
    st.metric("Verdict", mem.verdict)
    st.metric("Total / usable", f"{bytes_to_gib(mem.total_bytes):.2f} / "
                                f"{bytes_to_gib(mem.usable_bytes):.2f} GiB")
