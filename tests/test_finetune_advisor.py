"""Fine-tuning money: the cheapest cloud instance, local electricity, pay-back."""

from __future__ import annotations

import pytest

from advisor.finetune import finetune_plan
from catalog.catalog import load_catalog
from sizing.finetune_request import parse_finetune_request
from sizing.units import SECONDS_PER_HOUR

CAT = load_catalog()


def _plan(**data):
    return finetune_plan(parse_finetune_request({"dataset_tokens": 1e8, **data}), CAT)


def test_a_70b_full_fine_tune_rents_several_gpus_with_zero3():
    result = _plan(model="llama-3.1-70b", method="full", gpu="h100-sxm")
    cost = result.cost
    assert not result.memory.fits and cost.local_usd is None and cost.verdict == "cloud-only"
    instance = next(i for i in CAT.market.instances if i.instance_type == cost.cloud_instance
                    and i.provider.value == cost.cloud_provider)
    assert instance.gpu_count > 1  # DDP replicates the 70B states: only ZeRO-3 fits
    assert cost.cloud_usd_best == pytest.approx(instance.usd_per_hour * cost.cloud_total_s
                                                / SECONDS_PER_HOUR)


def test_local_electricity_and_pay_back_for_a_qlora_run():
    result = _plan(model="llama-3.1-8b", method="qlora", gpu="rtx-4090",
                   electricity_usd_per_kwh=0.30)
    cost, time = result.cost, result.time
    # GPU at its 450 W board power, a 65 W CPU and 75 W for the rest, through a 90 % PSU.
    assert cost.wall_power_w == pytest.approx((450 + 65 + 75) / 0.9)
    assert cost.energy_kwh == pytest.approx(cost.wall_power_w * time.total_s / 3.6e6)
    assert cost.local_usd == pytest.approx(cost.energy_kwh * 0.30)
    assert cost.cloud_usd_best is not None
    if cost.cloud_usd_best > cost.local_usd:
        assert cost.verdict == "local"
        assert cost.runs_to_pay_back == pytest.approx(cost.buy_usd
                                                      / (cost.cloud_usd_best - cost.local_usd))
