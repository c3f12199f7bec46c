"""A phone agent's task, step by step: context growth, seconds per step, steps per minute.

The step model is :func:`agent_steps` (Open-AutoGLM's loop, :mod:`sizing.workloads`:
one screenshot per step, the history kept as text). Each step's speed is the
engine's at that step's depth: the prompt processing of what is new this step
(prefix caching keeps the rest), the screenshot's encoding, and the answer's
decode.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from dataclasses import dataclass

from catalog.catalog import Catalog
from catalog.schema import ModelArch
from sizing.estimate import SpeedSection, _encoder_s_per_image, memory_for, speed_for
from sizing.request import EstimateRequest
from sizing.results import Result
from sizing.speed import SpeedUnknownError
from sizing.vision import image_cost
from sizing.workloads import (AGENT_ANSWER_TOKENS, AGENT_STEP_TEXT_TOKENS, AGENT_STEPS,
                              AGENT_SYSTEM_PROMPT_TOKENS)


@dataclass(frozen=True)
class AgentStep:
    """One step of the phone agent. [tokens]"""

    step: int  # 1-based
    context_tokens: int  # text + this step's image, before the answer
    new_prompt_tokens: int  # text processed this step with prefix caching (image excluded)
    answer_tokens: int


def agent_steps(*, steps: int = AGENT_STEPS, image_tokens: int,
                system_tokens: int = AGENT_SYSTEM_PROMPT_TOKENS,
                step_text_tokens: int = AGENT_STEP_TEXT_TOKENS,
                answer_tokens: int = AGENT_ANSWER_TOKENS) -> list[AgentStep]:
    """The context at each step of a phone-agent task.

    Step k's context holds the system prompt, k screen descriptions, k - 1
    answers and this step's screenshot. With prefix caching only the previous
    answer, the new description (and the screenshot) are processed.

    >>> [s.context_tokens for s in agent_steps(steps=3, image_tokens=1000)]
    [3030, 3210, 3390]
    >>> [s.new_prompt_tokens for s in agent_steps(steps=3, image_tokens=1000)]
    [2030, 180, 180]
    """
    out = []
    for k in range(1, steps + 1):
        text = system_tokens + k * step_text_tokens + (k - 1) * answer_tokens
        new = text if k == 1 else step_text_tokens + answer_tokens
        out.append(AgentStep(step=k, context_tokens=text + image_tokens, new_prompt_tokens=new,
                             answer_tokens=answer_tokens))
    return out


class AgentStepRow(Result):
    step: int
    context_tokens: int  # before the answer
    processed_tokens: int  # prompt tokens processed this step (new text + screenshot)
    seconds: float | None  # None when the speed is unknown


class AgentSection(Result):
    """The phone-agent task on this hardware. [tokens, s]"""

    steps: list[AgentStepRow]
    image_tokens_per_step: int
    answer_tokens: int
    seconds_per_step: float | None  # mean over the task
    steps_per_minute: float | None
    task_seconds: float | None
    last_step_context_tokens: int
    fits_every_step: bool  # the last (longest) step fits entirely on the GPU(s)
    # Screenshots the longest context that fits could hold next to the text history
    # (how much visual history an agent that kept its screenshots could afford).
    screenshots_that_fit: int


def agent_task(request: EstimateRequest, catalog: Catalog, arch: ModelArch, *,
               max_context_tokens: int, steps: int = AGENT_STEPS) -> AgentSection:
    """Seconds per step over a task of ``steps`` steps, for the request's hardware.

    ``request`` is the scenario as estimated (its images already in its prompt);
    ``max_context_tokens`` the longest context that fits (the fit search's).
    """
    images, width, height = request.images_for(arch)
    cost = image_cost(arch.vision, width, height) if arch.vision is not None and images else None
    per_step_image = cost.tokens * images if cost else 0
    plan = agent_steps(steps=steps, image_tokens=per_step_image, answer_tokens=request.new_tokens
                       if request.new_tokens else 1)
    rows: list[AgentStepRow] = []
    for s in plan:
        step_request = request.model_copy(update={
            "prompt_tokens": s.context_tokens, "new_tokens": s.answer_tokens,
            "context_tokens": max(request.context_tokens or 0, s.context_tokens + s.answer_tokens),
            "batch": 1})
        memory = memory_for(step_request, catalog, arch)
        try:
            speed = SpeedSection.of(speed_for(step_request, catalog, arch, memory))
        except SpeedUnknownError:
            speed = None
        seconds = None
        if speed is not None and speed.prefill_tokens_per_s and speed.decode_tokens_per_s:
            processed = s.new_prompt_tokens + per_step_image
            encode = (_encoder_s_per_image(cost, arch, speed) or 0.0) * images if cost else 0.0
            seconds = (processed / speed.prefill_tokens_per_s + encode
                       + s.answer_tokens / speed.decode_tokens_per_s)
        rows.append(AgentStepRow(step=s.step, context_tokens=s.context_tokens,
                                 processed_tokens=s.new_prompt_tokens + per_step_image,
                                 seconds=seconds))
    known = [r.seconds for r in rows if r.seconds is not None]
    total = sum(known) if len(known) == len(rows) else None
    mean = total / len(rows) if total is not None else None
    last = plan[-1]
    last_request = request.model_copy(update={
        "prompt_tokens": last.context_tokens, "new_tokens": last.answer_tokens,
        "context_tokens": max(request.context_tokens or 0, last.context_tokens + last.answer_tokens),
        "batch": 1})
    text_tokens = last.context_tokens - per_step_image + last.answer_tokens
    room = max_context_tokens - text_tokens
    screenshots = max(0, room // per_step_image) if per_step_image else 0
    return AgentSection(
        steps=rows, image_tokens_per_step=per_step_image, answer_tokens=last.answer_tokens,
        seconds_per_step=mean, steps_per_minute=60.0 / mean if mean else None, task_seconds=total,
        last_step_context_tokens=last.context_tokens,
        fits_every_step=memory_for(last_request, catalog, arch).fits,
        screenshots_that_fit=int(screenshots))
