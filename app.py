"""robustcore dashboard: ``streamlit run app.py``.

The entry point draws the shared sidebar once (so its settings survive page switches) and
navigates over the pages in ``app_pages/`` (not ``pages/``: Streamlit would serve a folder of that name
on its own to a visitor who opens a deep link before anyone has loaded ``app.py``).
"""
from __future__ import annotations

import streamlit as st

from ui.common import configure_torch_threads, mark_app_sidebar, render_sidebar

st.set_page_config(page_title="robustcore", page_icon=":material/shield:", layout="wide")
configure_torch_threads()  # once per server process: half the cores (see its docstring)

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/tropical.py", title="Tropical geometry", icon=":material/change_history:", url_path="tropical"),
    st.Page("app_pages/gabor.py", title="Gabor filters", icon=":material/waves:", url_path="gabor"),
    st.Page("app_pages/certificates.py", title="Certificates", icon=":material/casino:", url_path="certificates"),
    st.Page("app_pages/clustering.py", title="Clustering certificates", icon=":material/hub:", url_path="clustering"),
    st.Page("app_pages/batch_size.py", title="Batch size", icon=":material/stacks:", url_path="batch_size"),
]

page = st.navigation(PAGES)
render_sidebar()
mark_app_sidebar()
page.run()
