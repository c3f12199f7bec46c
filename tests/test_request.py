"""The request schema: what a scenario may hold, and the messages when it may not."""

from __future__ import annotations

import math

import pytest

from sizing.request import RequestError, parse_request


@pytest.mark.parametrize("field", ["params_b", "ambient_c", "power_limit_w",
                                   "electricity_usd_per_kwh"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_field(field, value):
    data = {"params_b": 7.0} if field == "params_b" else {"model": "llama-3.1-8b"}
    with pytest.raises(RequestError, match=f"^{field}: Input should be a finite number"):
        parse_request({**data, field: value})


@pytest.mark.parametrize(("data", "match"), [
    ({"model": "llama-3.1-8b", "batch": 10**9}, "batch: Input should be less than or equal to 4096"),
    ({"model": "llama-3.1-8b", "gpu_count": 0}, "gpu_count: Input should be greater than"),
    ({"model": "llama-3.1-8b", "prompt_tokens": -5}, "prompt_tokens: Input should be greater"),
    ({"model": "llama-3.1-8b", "colour": "red"}, "colour: unknown field"),
    ({"model": "llama-3.1-8b", "params_b": 7},
     "exactly one of model, hf_config, params_b, hf_id, gguf, safetensors"),
])
def test_out_of_range_requests_say_what_to_change(data, match):
    with pytest.raises(RequestError, match=match):
        parse_request(data)
