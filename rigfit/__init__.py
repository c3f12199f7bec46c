"""RigFit's command line: ``rigfit`` (or ``python -m sizing``) and its subcommands.

The command line sits on top beside the Streamlit pages: it may import the
engine (:mod:`sizing`), the advisor (:mod:`advisor`) and the report builders
(:mod:`report`); nothing below it imports it.
"""
