"""GPUs read through NVML: a fake pynvml stands in for the driver (none is needed)."""

from __future__ import annotations

import types

from catalog.catalog import load_catalog
from pages._detect import match_gpu_id, read_nvml


class NVMLError(Exception):
    pass


def fake_nvml(devices: list[tuple[object, int]], *, fail_init: bool = False,
              fail_on: int | None = None) -> types.SimpleNamespace:
    calls: list[str] = []

    def init():
        calls.append("init")
        if fail_init:
            raise NVMLError("Driver Not Loaded")

    def handle(index):
        if index == fail_on:
            raise NVMLError("GPU is lost")
        return index

    return types.SimpleNamespace(
        NVMLError=NVMLError, calls=calls, nvmlInit=init,
        nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlDeviceGetCount=lambda: len(devices), nvmlDeviceGetHandleByIndex=handle,
        nvmlDeviceGetName=lambda h: devices[h][0],
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(total=devices[h][1]))


def test_names_and_memory_are_read_and_matched_to_the_catalog():
    nvml = fake_nvml([(b"NVIDIA GeForce RTX 3060", 12 * 2**30),
                      ("NVIDIA GeForce RTX 4090", 24564 * 2**20)])
    found = read_nvml(nvml)
    assert found == (("NVIDIA GeForce RTX 3060", 12288.0), ("NVIDIA GeForce RTX 4090", 24564.0))
    gpus = load_catalog().gpus
    assert [match_gpu_id(n, m, gpus) for n, m in found] == ["rtx-3060-12gb", "rtx-4090"]
    assert nvml.calls == ["init", "shutdown"]


def test_no_driver_or_a_lost_gpu_reads_nothing_and_still_shuts_down():
    assert read_nvml(fake_nvml([], fail_init=True)) == ()
    lost = fake_nvml([(b"NVIDIA GeForce RTX 3060", 12 * 2**30)], fail_on=0)
    assert read_nvml(lost) == () and lost.calls == ["init", "shutdown"]


def test_without_pynvml_installed_nothing_is_read():
    # nvidia-ml-py is optional and not a dependency: importing it fails here.
    assert read_nvml() == ()
