"""Reports a team lead can forward: HTML (:mod:`report.html`) and PDF (:mod:`report.pdf`).

Plain functions, results in and bytes out; no Streamlit. :mod:`report.content`
builds the translated content once, :mod:`report.charts` the Plotly figures.
"""
