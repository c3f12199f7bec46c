"""Reports a team lead can forward: HTML (:mod:`report.html`) and PDF (:mod:`report.pdf`).

Plain functions, results in and bytes out; no Streamlit. :mod:`report.content`
builds the translated content once, :mod:`report.charts` its charts as Plotly
JSON specs, which the HTML hands to plotly.js and the PDF draws itself.
"""
