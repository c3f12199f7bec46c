"""Workload presets: what a chat, a coding assistant, RAG or a phone agent asks of a model.

A preset fills the request's prompt, reply and context lengths (and images)
with the shape of one use; the user can still change each. The numbers are
typical sizes, stated with their reasoning, not measurements of anyone's
traffic.

The phone agent follows Open-AutoGLM's loop (https://github.com/zai-org/Open-AutoGLM,
``phone_agent/agent.py``): each step sends the current screenshot with a short
screen description, the model thinks briefly and answers one action, and the
screenshot is then removed from the history, so the context grows by the text
of each step while holding one image. Its system prompt
(``phone_agent/config/prompts_zh.py``) is about 9,000 characters: about
2,000 tokens. A runtime with prefix caching (vLLM and SGLang by default,
llama.cpp's server with ``cache_prompt``) reuses the history it has already
processed, so each step processes only what is new: the previous answer, the
screen description and the screenshot.
"""

from __future__ import annotations

from dataclasses import dataclass

# Phone-agent step model (Open-AutoGLM, see above).
AGENT_SYSTEM_PROMPT_TOKENS = 2_000  # system prompt + task
AGENT_STEP_TEXT_TOKENS = 30  # "** Screen Info **" with the current app, as JSON
AGENT_ANSWER_TOKENS = 150  # <think>brief reasoning</think><answer>do(action=...)</answer>
AGENT_STEPS = 20  # a typical multi-screen task
AGENT_SCREEN_WIDTH_PX = 1080  # a common phone screen, portrait
AGENT_SCREEN_HEIGHT_PX = 2400


@dataclass(frozen=True)
class Preset:
    """Request fields a use implies. [tokens, images, px]"""

    id: str
    prompt_tokens: int
    new_tokens: int
    context_tokens: int
    images: int = 0
    image_width_px: int = 0
    image_height_px: int = 0


PRESETS: dict[str, Preset] = {p.id: p for p in (
    # A conversation: a question with some history, a reply of a few paragraphs.
    Preset("chat", prompt_tokens=512, new_tokens=512, context_tokens=8_192),
    # A coding assistant: open files and the repository map in the prompt, long context.
    Preset("code", prompt_tokens=16_000, new_tokens=1_000, context_tokens=32_768),
    # Retrieval-augmented generation: several retrieved passages, a short answer.
    Preset("rag", prompt_tokens=8_000, new_tokens=300, context_tokens=16_384),
    # A phone agent's last step of a 20-step task: the history of 19 steps and one screenshot.
    Preset("agent",
           prompt_tokens=AGENT_SYSTEM_PROMPT_TOKENS
           + AGENT_STEPS * AGENT_STEP_TEXT_TOKENS + (AGENT_STEPS - 1) * AGENT_ANSWER_TOKENS,
           new_tokens=AGENT_ANSWER_TOKENS, context_tokens=8_192, images=1,
           image_width_px=AGENT_SCREEN_WIDTH_PX, image_height_px=AGENT_SCREEN_HEIGHT_PX),
)}
