"""Unit conversions: the one place where prefixes and scales live.

Capacities are binary (GiB = 2^30 bytes), bandwidths and file sizes as vendors
print them are decimal (GB = 10^9 bytes), throughput is in tera-operations per
second (10^12), energy in watt-hours.
"""

from __future__ import annotations

BYTES_PER_KIB = 1024
BYTES_PER_MIB = 1024**2
BYTES_PER_GIB = 1024**3
BYTES_PER_GB = 10**9
FLOPS_PER_TFLOPS = 10**12
SECONDS_PER_HOUR = 3600.0
BTU_PER_HOUR_PER_W = 3.412141633  # 1 W = 3.412 BTU/h (IT heat-load convention)
HOURS_PER_MONTH = 730.0  # 8,760 h / 12


def gib_to_bytes(gib: float) -> float:
    """GiB -> bytes. [B]"""
    return gib * BYTES_PER_GIB


def bytes_to_gib(n_bytes: float) -> float:
    """Bytes -> GiB. [GiB]"""
    return n_bytes / BYTES_PER_GIB


def mib_to_bytes(mib: float) -> float:
    """MiB -> bytes. [B]"""
    return mib * BYTES_PER_MIB


def bytes_to_mib(n_bytes: float) -> float:
    """Bytes -> MiB. [MiB]"""
    return n_bytes / BYTES_PER_MIB


def gb_to_bytes(gb: float) -> float:
    """Decimal GB -> bytes. [B]"""
    return gb * BYTES_PER_GB


def bytes_to_gb(n_bytes: float) -> float:
    """Bytes -> decimal GB. [GB]"""
    return n_bytes / BYTES_PER_GB


def gb_per_s_to_bytes_per_s(gb_per_s: float) -> float:
    """Datasheet bandwidth (decimal GB/s) -> bytes/s. [B/s]"""
    return gb_per_s * BYTES_PER_GB


def tflops_to_flops(tflops: float) -> float:
    """TFLOP/s -> FLOP/s. [FLOP/s]"""
    return tflops * FLOPS_PER_TFLOPS


def w_to_btu_per_hour(watts: float) -> float:
    """Heat in watts -> BTU per hour. [BTU/h]"""
    return watts * BTU_PER_HOUR_PER_W


def wh_to_kwh(wh: float) -> float:
    """Watt-hours -> kilowatt-hours. [kWh]"""
    return wh / 1000.0


def params_b_to_count(params_b: float) -> float:
    """Billions of parameters -> a plain count."""
    return params_b * 1e9
