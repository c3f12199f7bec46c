"""RigFit app frame: page config, language, navigation and the shareable URL.

Every page reads and writes one configuration held in the session; this file
restores it from the URL on a fresh load and writes it back after the page
ran, so the address bar is always a link that reopens the same view.
"""

from __future__ import annotations

import streamlit as st

from catalog.loader import CatalogError
from pages._engine import catalog
from pages._frame import run_in_frame
from pages._state import state, store, sync_url
from pages._text import plain, show_notices, t
from report.text import LANGUAGES, language_from, translate

st.set_page_config(page_title="RigFit", page_icon=":material/calculate:", layout="wide")
try:
    catalog()
except CatalogError as exc:
    # No numbers from a catalog that did not validate; the message names file, entry, field.
    language = language_from(st.query_params.get("lang"), st.context.locale)
    st.error(plain(translate("error.catalog_broken", language, message=str(exc))),
             icon=":material/error:")
    st.stop()
state()
store("lang", st.sidebar.radio(
    t("app.language"), LANGUAGES, key="w_lang", index=LANGUAGES.index(state()["lang"]), horizontal=True,
    format_func=lambda code: {"en": "English", "zh": "简体中文"}[code]))

pages = [
    st.Page("pages/configurator.py", title=t("nav.configurator"), icon=":material/calculate:", default=True),
    st.Page("pages/compare.py", title=t("nav.compare"), icon=":material/bar_chart:", url_path="compare"),
    st.Page("pages/fits.py", title=t("nav.fits"), icon=":material/checklist:", url_path="fits"),
    st.Page("pages/builds.py", title=t("nav.builds"), icon=":material/shopping_cart:", url_path="builds"),
    st.Page("pages/cloud.py", title=t("nav.cloud"), icon=":material/cloud:", url_path="cloud"),
    st.Page("pages/serve.py", title=t("nav.serve"), icon=":material/groups:", url_path="serve"),
    st.Page("pages/finetune.py", title=t("nav.finetune"), icon=":material/model_training:",
            url_path="finetune"),
    st.Page("pages/reports.py", title=t("nav.report"), icon=":material/description:", url_path="reports"),
    st.Page("pages/method.py", title=t("nav.method"), icon=":material/functions:", url_path="method"),
]
page = st.navigation(pages)
show_notices()
run_in_frame(page)
sync_url()
