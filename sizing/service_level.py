"""A team's service level and traffic (:class:`ServeSettings`), with the speculative
decoding it may use (:class:`SpeculativeSettings`), apart from the engine that serves
them (:mod:`sizing.capacity`, :mod:`sizing.serving`, :mod:`sizing.speculative`, which
re-export these names): a plan or a report that carries a service level, or none,
does not import the serving simulation until it runs one.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.errors import UserError, invalid_input

# Largest user count a capacity search tries (and the widest curve point).
MAX_SERVE_USERS = 1024
# Default service level: the first token within 2 s (a reply that starts
# "at once" in a chat window) and 100 ms between tokens, i.e. 10 tokens/s:
# the reading speed the build advisor sizes for (advisor.candidates).
DEFAULT_TTFT_P95_S = 2.0
DEFAULT_ITL_P95_MS = 100.0
# A person reads a reply and types the next message between requests; 30 s
# is the mean of the exponential think time unless the user gives one.
DEFAULT_THINK_TIME_S = 30.0
MAX_THINK_TIME_S = 3600.0
MAX_PARALLEL_SLOTS = 256
MAX_PREFIX_HIT_FRAC = 0.99
MAX_REQUESTS_PER_MINUTE = 100_000.0
DEFAULT_DRAFT_TOKENS = 3
MAX_DRAFT_TOKENS = 16


class ServeError(UserError):
    """A serving question that cannot be answered; the message says what to change."""


class SpeculativeSettings(BaseModel):
    """A draft model or the model's MTP modules, and how often its tokens are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    method: Literal["draft", "mtp"] = "draft"
    draft_model: str | None = None  # catalog id of the draft (method "draft")
    draft_tokens: int = Field(default=DEFAULT_DRAFT_TOKENS, ge=1, le=MAX_DRAFT_TOKENS)
    acceptance_frac: float | None = Field(default=None, gt=0, lt=1)  # None: the task's default
    task: Literal["chat", "code", "rag", "agent"] = "chat"


class ServeSettings(BaseModel):
    """The service level and the traffic a team sends. [users, s, ms, fraction]"""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    users: int = Field(default=1, ge=1, le=MAX_SERVE_USERS)
    think_time_s: float = Field(default=DEFAULT_THINK_TIME_S, ge=0, le=MAX_THINK_TIME_S)
    # Instead of users who wait for their replies: requests arriving at this rate
    # (Poisson), e.g. from an application. The users still set the capacity figure.
    requests_per_minute: float | None = Field(default=None, gt=0, le=MAX_REQUESTS_PER_MINUTE)
    ttft_p95_s: float = Field(default=DEFAULT_TTFT_P95_S, gt=0, le=3600)
    itl_p95_ms: float = Field(default=DEFAULT_ITL_P95_MS, gt=0, le=60_000)
    # Share of each prompt found in the prefix cache (a shared system prompt, a
    # conversation's history): only the rest is processed.
    prefix_hit_frac: float = Field(default=0.0, ge=0, le=MAX_PREFIX_HIT_FRAC)
    parallel: int | None = Field(default=None, ge=1, le=MAX_PARALLEL_SLOTS)  # llama.cpp/Ollama slots
    usd_per_hour: float | None = Field(default=None, ge=0)  # rental price of the machine, if rented
    speculative: SpeculativeSettings | None = None


def serve_settings(data: dict) -> ServeSettings:
    """Validate a service level and traffic; a value out of range is a ServeError naming
    the field (a latency target of 0, say, from a form whose control allows it)."""
    try:
        return ServeSettings.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, ServeError) from None
