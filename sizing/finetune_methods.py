"""The fine-tuning methods, apart from the fine-tuning engine (:mod:`sizing.finetune`,
which re-exports them), so a command line can offer them as choices without
importing it."""

from typing import Literal

Method = Literal["full", "lora", "qlora"]

METHODS: tuple[Method, ...] = ("full", "lora", "qlora")
