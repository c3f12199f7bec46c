"""The Configurator's image and phone-agent blocks: what a screenshot costs, and a task's steps.

The agent task (sizing.agent) re-estimates each step at its own depth, so it is
cached by the JSON of its inputs like the estimate itself.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from catalog.errors import UserError
from catalog.schema import ModelArch
from pages._charts import style
from pages._engine import catalog
from pages._text import plain, show_user_error, t
from report.formats import gib_text, pattern_text
from sizing.agent import AgentSection, agent_task
from sizing.estimate import Estimate
from sizing.request import EstimateRequest, file_quant, resolve_model

STEP_COLOUR = "#4C78A8"
SECONDS_COLOUR = "#F58518"


@st.cache_data(max_entries=64, show_spinner=False)
def _agent_cached(request_json: str, arch_json: str | None, max_context_tokens: int) -> AgentSection:
    cat = catalog()
    request = EstimateRequest.model_validate_json(request_json)
    arch = (ModelArch.model_validate_json(arch_json) if arch_json
            else resolve_model(request, cat)[0])
    request, _ = file_quant(request, arch)
    return agent_task(request, cat, arch, max_context_tokens=max_context_tokens)


def run_agent(request: EstimateRequest, arch: ModelArch | None, result: Estimate) -> AgentSection:
    """The phone-agent task of the scenario, on its hardware (``arch``: an uploaded model)."""
    return _agent_cached(request.model_dump_json(),
                         arch.model_dump_json() if arch is not None else None,
                         result.fit.max_context_tokens)


def agent_figure(agent: AgentSection) -> go.Figure:
    """Context tokens at each step (bars) and each step's seconds (line, right axis)."""
    steps = [s.step for s in agent.steps]
    fig = go.Figure()
    fig.add_bar(x=steps, y=[s.context_tokens for s in agent.steps], name=t("agent.chart_context"),
                marker_color=STEP_COLOUR, hovertemplate="%{y:,} tokens<extra></extra>")
    if all(s.seconds is not None for s in agent.steps):
        fig.add_scatter(x=steps, y=[s.seconds for s in agent.steps], name=t("agent.chart_seconds"),
                        yaxis="y2", mode="lines+markers", line_color=SECONDS_COLOUR,
                        hovertemplate="%{y:.1f} s<extra></extra>")
    fig.update_layout(title=t("agent.chart_title"), xaxis_title=t("agent.chart_step"),
                      yaxis_title=t("agent.chart_context"),
                      yaxis2={"title": t("agent.chart_seconds"), "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "showgrid": False})
    return style(fig, height=320)


def show_vision(result: Estimate) -> None:
    """Images in each request: their tokens, and the encoder's memory and time."""
    v = result.vision
    if v is None:
        return
    st.subheader(t("vision.header"))
    st.caption(t("vision.images", images=v.images, width=v.image_width_px, height=v.image_height_px,
                 resized_width=v.resized_width_px, resized_height=v.resized_height_px))
    c = st.columns(3)
    c[0].metric(t("vision.tokens_per_image"), f"{v.image_tokens_per_image:,}")
    c[1].metric(t("vision.encoder_memory"), gib_text(v.encoder_bytes))
    c[2].metric(t("vision.encoder_time"), pattern_text(v.encoder_s_per_image, "{:,.2f} s"))


def show_agent(request: EstimateRequest, arch: ModelArch | None, result: Estimate) -> None:
    """The phone-agent task: seconds per step, steps per minute, task time, screenshots that fit."""
    if request.workload != "agent":
        return
    try:
        agent = run_agent(request, arch, result)
    except UserError as exc:
        show_user_error(exc)
        return
    st.subheader(t("agent.header"))
    st.markdown(plain(agent_summary(agent, result)))
    c = st.columns(4)
    c[0].metric(t("agent.seconds_per_step"), pattern_text(agent.seconds_per_step, "{:,.1f} s"))
    c[1].metric(t("agent.steps_per_minute"), pattern_text(agent.steps_per_minute, "{:,.1f}"))
    c[2].metric(t("agent.task_time", steps=len(agent.steps)),
                pattern_text(agent.task_seconds, "{:,.0f} s"))
    c[3].metric(t("agent.screenshots"), f"{agent.screenshots_that_fit:,}"
                if agent.image_tokens_per_step else t("config.none"),
                help=t("agent.screenshots_help"))
    st.caption(t("agent.context_caption", first=f"{agent.steps[0].context_tokens:,}",
                 last=f"{agent.last_step_context_tokens:,}", steps=len(agent.steps),
                 image=f"{agent.image_tokens_per_step:,}", answer=f"{agent.answer_tokens:,}"))
    st.plotly_chart(agent_figure(agent), key="agent_chart")


def agent_summary(agent: AgentSection, result: Estimate) -> str:
    """One sentence: the verdict and best precision, the screenshots that fit, seconds per step."""
    verdict = t(f"verdict.short_{result.memory.verdict}")
    best = result.fit.best_quant or t("config.none")
    seconds = pattern_text(agent.seconds_per_step, "{:,.1f}")
    return t("agent.summary", model=result.model.name, gpu=result.gpu_name, verdict=verdict,
             quant=result.quant, best=best, screenshots=agent.screenshots_that_fit,
             seconds=seconds, per_minute=pattern_text(agent.steps_per_minute, "{:,.1f}"))
