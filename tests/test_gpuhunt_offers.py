"""Tests for catalog.gpuhunt_offers and ``rigfit cloud-offers``: a local gpuhunt catalog, no internet.

A local HTTP server publishes a small catalog the way gpuhunt's bucket does
(``/{provider}/version`` and ``/{provider}/{version}/catalog.zip`` holding
``{provider}.csv``); ``GPUHUNT_CATALOG_URL`` points gpuhunt at it, and the
real refresh code (gpuhunt's own download and CSV reading) runs against it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from advisor.plan import plan
from catalog.catalog import load_catalog_from
from catalog.cloud_offers import SNAPSHOT_FILE
from catalog.gpuhunt_offers import GPU_IDS, Queried, gpu_id_of, snapshot_of
from catalog.loader import CATALOG_DIR, CatalogError
from report.content import PlanInputs, report_content
from rigfit import cli
from sizing.estimate import estimate
from sizing.request import EstimateRequest, parse_request

VERSION = "20261201-120000"
COLUMNS = ["instance_name", "location", "price", "cpu", "memory", "gpu_count", "gpu_name",
           "gpu_memory", "spot", "disk_size", "gpu_vendor", "flags", "cpu_arch", "provider_data"]
# (instance, location, USD/h, vCPUs, RAM GiB, GPUs, GPU name, GPU GiB, spot)
ROWS = {
    "aws": [
        ("g5.xlarge", "us-east-1", 1.006, 4, 16, 1, "A10G", 24, False),
        ("g5.xlarge", "eu-west-1", 1.123, 4, 16, 1, "A10G", 24, False),  # dearer location: dropped
        ("g5.xlarge", "us-east-1", 0.4124, 4, 16, 1, "A10G", 24, True),
        ("p4d.24xlarge", "us-east-1", 21.96, 96, 1152, 8, "A100", 40, False),
        ("p3.2xlarge", "us-east-1", 3.06, 8, 61, 1, "V100", 16, False),  # no catalog GPU
        ("p3.2xlarge", "us-west-2", 3.06, 8, 61, 1, "V100", 16, True),
        ("m5.large", "us-east-1", 0.096, 2, 8, 0, "", "", False),  # no GPU: not an offer
        ("x.rack", "us-east-1", 99.0, 8, 64, 32, "H100", 80, False),  # past 16 GPUs: incomplete
    ],
    "lambdalabs": [
        ("gpu_1x_h100_pcie", "us-east-1", 2.49, 26, 225, 1, "H100", 80, False),
        ("gpu_8x_h100_sxm5", "us-east-1", 23.92, 208, 1800, 8, "H100", 80, False),
    ],
    "runpod": [
        ("NVIDIA GeForce RTX 4090", "EU-RO-1", 0.69, 6, 41, 1, "RTX4090", 24, False),
        ("NVIDIA GeForce RTX 4090", "EU-RO-1", 0.34, 6, 41, 1, "RTX4090", 24, True),
    ],
}


def _catalog_zip(provider: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for name, where, price, cpu, ram, count, gpu, gpu_gib, spot in ROWS[provider]:
        writer.writerow([name, where, price, cpu, ram, count, gpu, gpu_gib, spot, 100,
                         "nvidia" if count else "", "", "x86", "{}"])
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr(f"{provider}.csv", text.getvalue())
    return data.getvalue()


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    seen: list[str] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.seen.append(self.path)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@pytest.fixture(scope="module")
def catalog_server():
    """gpuhunt's bucket for aws, lambdalabs and runpod; other providers answer 404."""
    files = {}
    for provider in ROWS:
        files[f"/v3/{provider}/version"] = VERSION.encode()
        files[f"/v3/{provider}/{VERSION}/catalog.zip"] = _catalog_zip(provider)
    handler = type("Handler", (_Handler,), {"files": files, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v3", handler.seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def refreshed(catalog_server, tmp_path_factory):
    """The snapshot ``rigfit cloud-offers --refresh`` writes from the local catalog, and its output."""
    url, _ = catalog_server
    out = tmp_path_factory.mktemp("offers") / SNAPSHOT_FILE
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GPUHUNT_CATALOG_URL", url)
        printed = io.StringIO()
        mp.setattr(sys, "stdout", printed)
        rc = cli.main(["cloud-offers", "--refresh", "--out", str(out),
                       "--providers", "aws", "lambdalabs", "runpod", "nebius"])
    assert rc == 0
    return yaml.safe_load(out.read_text(encoding="utf-8")), printed.getvalue(), out, url


def _by_id(entries: list[dict]) -> dict[str, dict]:
    return {e["id"]: e for e in entries}


def test_snapshot_is_dated_and_names_its_source(refreshed):
    data, _, _, url = refreshed
    head = data["snapshot"]
    assert head["generated_on"] == dt.date.today().isoformat()
    assert head["gpuhunt_version"] == "0.1.34"
    assert head["catalog_url"] == url
    assert head["providers"] == {
        "aws": {"catalog_version": VERSION, "on_demand": 2, "spot": 1, "incomplete": 1},
        "lambda": {"catalog_version": VERSION, "on_demand": 2, "spot": 0, "incomplete": 0},
        "runpod": {"catalog_version": VERSION, "on_demand": 1, "spot": 1, "incomplete": 0}}
    # Asked for and not published by the server: listed, not silently missing.
    assert [row["provider"] for row in head["not_loaded"]] == ["nebius"]
    assert "404" in head["not_loaded"][0]["reason"]


def test_gpu_names_map_to_catalog_ids_and_unmapped_ones_are_listed(refreshed):
    data, printed, _, _ = refreshed
    on_demand = _by_id(data["on_demand"])
    assert on_demand["aws-g5-xlarge-us-east-1"]["gpu_id"] == "a10"
    assert on_demand["aws-p4d-24xlarge-us-east-1"]["gpu_id"] == "a100-40gb-sxm"
    assert on_demand["aws-p4d-24xlarge-us-east-1"]["interconnect"] == "nvlink"
    assert on_demand["lambda-gpu-1x-h100-pcie-us-east-1"]["gpu_id"] == "h100-pcie"
    assert on_demand["lambda-gpu-8x-h100-sxm5-us-east-1"]["gpu_id"] == "h100-sxm"
    assert on_demand["runpod-nvidia-geforce-rtx-4090-eu-ro-1"]["gpu_id"] == "rtx-4090"
    assert data["snapshot"]["unmapped"] == [
        {"provider": "aws", "gpu_name": "V100", "gpu_memory_gib": 16.0, "offers": 2}]
    assert "V100" in printed and "unmapped" in printed
    assert not any(e["instance_type"].startswith("p3.") for e in data["on_demand"] + data["spot"])
    assert not any(e["instance_type"] == "m5.large" for e in data["on_demand"])


def test_spot_and_on_demand_are_kept_apart(refreshed):
    data, _, _, url = refreshed
    on_demand, spot = _by_id(data["on_demand"]), _by_id(data["spot"])
    assert set(spot) == {"aws-g5-xlarge-us-east-1-spot", "runpod-nvidia-geforce-rtx-4090-eu-ro-1-spot"}
    assert spot["aws-g5-xlarge-us-east-1-spot"]["usd_per_hour"] == 0.4124
    assert "spot price" in spot["aws-g5-xlarge-us-east-1-spot"]["notes"]
    # The cheapest of the two on-demand locations, never the spot price.
    g5 = on_demand["aws-g5-xlarge-us-east-1"]
    assert g5["usd_per_hour"] == 1.006
    assert g5["notes"] == f"gpuhunt 0.1.34, on-demand price, cheapest of 2 offers, catalog {VERSION}."
    assert g5["source"] == f"{url}/aws/{VERSION}/catalog.zip"
    assert g5["as_of"] == dt.date.today().isoformat()


def _catalog_copy(folder: Path, snapshot: Path | None) -> Path:
    """The catalog's YAML files in ``folder``, with ``snapshot`` as the cloud offers or none."""
    shutil.copytree(CATALOG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / SNAPSHOT_FILE).unlink(missing_ok=True)
    if snapshot is not None:
        shutil.copy(snapshot, folder / SNAPSHOT_FILE)
    return folder


def test_the_app_prices_the_snapshot(refreshed, tmp_path):
    """With the snapshot in the catalog folder the advisor's cloud options come from it."""
    assert load_catalog_from(_catalog_copy(tmp_path / "a", None)).market.offers_source.kind \
        == "reviewed"
    cat = load_catalog_from(_catalog_copy(tmp_path / "b", refreshed[2]))
    market = cat.market
    assert market.offers_source.kind == "gpuhunt"
    assert market.offers_source.as_of == dt.date.today()
    assert {i.id for i in market.spot_instances} == {"aws-g5-xlarge-us-east-1-spot",
                                                      "runpod-nvidia-geforce-rtx-4090-eu-ro-1-spot"}
    assert len(market.instances) == 5
    result = plan(EstimateRequest(model="llama-3.1-8b"), cat, budget_usd=None, quant="q4_k_m",
                  context_tokens=4096)
    ids = {o.instance_id for o in result.cloud}
    assert ids and ids <= {i.id for i in market.instances}
    runpod = next(o for o in result.cloud if o.instance_id == "runpod-nvidia-geforce-rtx-4090-eu-ro-1")
    assert runpod.usd_per_hour == 0.69
    assert runpod.name == "RunPod 1 × NVIDIA GeForce RTX 4090"


def test_a_broken_snapshot_names_its_file_entry_and_field(refreshed, tmp_path):
    data = refreshed[0]
    folder = _catalog_copy(tmp_path / "catalog", None)
    broken = {**data, "on_demand": [{**data["on_demand"][0], "usd_per_huor": 1.0}]}
    (folder / SNAPSHOT_FILE).write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^cloud_offers\.yaml: entry 'aws-g5-xlarge-us-east-1': "
                                           r"field 'usd_per_huor': unknown field"):
        load_catalog_from(folder)
    twice = {**data, "spot": [*data["spot"], data["on_demand"][0]]}
    (folder / SNAPSHOT_FILE).write_text(yaml.safe_dump(twice), encoding="utf-8")
    with pytest.raises(CatalogError, match="listed as on-demand and spot"):
        load_catalog_from(folder)
    undated = {**data, "snapshot": {k: v for k, v in data["snapshot"].items() if k != "generated_on"}}
    (folder / SNAPSHOT_FILE).write_text(yaml.safe_dump(undated), encoding="utf-8")
    with pytest.raises(CatalogError, match="snapshot: field 'generated_on'"):
        load_catalog_from(folder)


@pytest.fixture(scope="module")
def snapshot_catalog(refreshed, tmp_path_factory) -> Path:
    """A copy of the catalog folder with the refreshed snapshot in it."""
    return _catalog_copy(tmp_path_factory.mktemp("catalog") / "catalog", refreshed[2])


@pytest.mark.parametrize("lang, reviewed, snapshot", [
    ("en", "hand-reviewed list, newest price {date}", "gpuhunt 0.1.34 catalog snapshot of {date}"),
    ("zh", "人工核对的列表，最新价格 {date}", "gpuhunt 0.1.34 目录快照，{date}"),
])
def test_the_report_dates_the_offers_it_priced(snapshot_catalog, tmp_path, lang, reviewed, snapshot):
    label = {"en": "Cloud offers", "zh": "云报价"}[lang]
    by_hand = load_catalog_from(_catalog_copy(tmp_path / "catalog", None))
    newest_reviewed = max(i.as_of for i in by_hand.market.instances)
    for cat, expected in ((by_hand, reviewed.format(date=newest_reviewed)),
                          (load_catalog_from(snapshot_catalog),
                           snapshot.format(date=dt.date.today().isoformat()))):
        result = estimate(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090"}), cat)
        content = report_content(result, lang=lang, inputs=PlanInputs(), catalog=cat)
        facts = {f.label: f.value for f in content.as_of}
        assert facts[label] == expected


def test_the_cloud_page_says_where_its_offers_come_from(snapshot_catalog, monkeypatch):
    monkeypatch.setenv("RIGFIT_CATALOG_DIR", str(snapshot_catalog))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.query_params["model"] = "llama-3.1-8b"
    at.run()
    at.switch_page("pages/cloud.py")
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    today = dt.date.today().isoformat()
    assert f"Offers from gpuhunt 0.1.34's catalog, snapshot of {today}; on-demand prices " \
           "(spot offers are kept apart)." in captions, captions


def test_unreachable_catalog_fails_in_one_line_and_keeps_the_snapshot(tmp_path, monkeypatch, capsys):
    out = tmp_path / SNAPSHOT_FILE
    out.write_text("snapshot: kept\n", encoding="utf-8")
    with socket_port() as port:  # a port nothing listens on
        monkeypatch.setenv("GPUHUNT_CATALOG_URL", f"http://127.0.0.1:{port}/v3")
        rc = cli.main(["cloud-offers", "--refresh", "--out", str(out), "--providers", "aws"])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "cannot read gpuhunt's catalog" in lines[0]
    assert out.read_text(encoding="utf-8") == "snapshot: kept\n"
    assert not list(tmp_path.glob("*.partial"))


def test_unknown_provider_is_a_user_error(capsys):
    assert cli.main(["cloud-offers", "--refresh", "--providers", "alibaba"]) == 2
    assert "unknown gpuhunt provider 'alibaba'" in capsys.readouterr().err


def test_mapping_table_names_catalog_gpus():
    ids = {g.id for g in load_catalog_from(CATALOG_DIR).gpus}
    assert set(GPU_IDS.values()) <= ids
    assert gpu_id_of("A100", 80, "NVIDIA A100 80GB PCIe") == "a100-80gb-pcie"
    assert gpu_id_of("A100", 80, "a2-ultragpu-1g") == "a100-80gb-sxm"
    assert gpu_id_of("A100", 64, "odd") is None


def test_a_marketplace_keeps_the_cheapest_offer_per_gpu_and_count():
    """Vast.ai's hosts are each an instance; gpuhunt's own records, built here, not fetched."""
    from gpuhunt import AcceleratorVendor, CatalogItem

    def host(name: str, usd: float, count: int = 1) -> CatalogItem:
        return CatalogItem(provider="vastai", instance_name=name, location="se-stockholm",
                           price=usd, cpu=16, memory=64, gpu_count=count, gpu_name="RTX4090",
                           gpu_memory=24, spot=False, disk_size=100,
                           gpu_vendor=AcceleratorVendor.NVIDIA)

    queried = Queried(offers=[host("1001", 0.41), host("1002", 0.35), host("1003", 0.70, 2)])
    data = snapshot_of(queried, providers=["vastai"], generated_on=dt.date(2026, 12, 1),
                       url="https://example.org/v3")
    offers = _by_id(data["on_demand"])
    assert set(offers) == {"vastai-1x-rtx-4090", "vastai-2x-rtx-4090"}
    assert offers["vastai-1x-rtx-4090"]["usd_per_hour"] == 0.35
    assert offers["vastai-1x-rtx-4090"]["instance_type"] == "1002"
    assert offers["vastai-1x-rtx-4090"]["source"].endswith("/src/gpuhunt/providers/vastai.py")
    assert data["snapshot"]["providers"]["vastai"] == {"on_demand": 2, "spot": 0, "incomplete": 0}


def test_loading_the_project_never_imports_gpuhunt():
    code = ("import sys, rigfit.cli, catalog.catalog; catalog.catalog.load_catalog(); "
            "print('gpuhunt' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False", done.stderr


class socket_port:
    """A free local port, closed again: connecting to it is refused."""

    def __enter__(self) -> int:
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None
