"""The deployment files: the container serves on all interfaces with a health check,
and the example manifest pins each browser to one replica."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_serves_the_app_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert '"--server.address", "0.0.0.0"' in text and '"app.py"' in text
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
    assert "USER rigfit" in text


def test_kubernetes_manifest_is_sticky_and_probed():
    docs = {d["kind"]: d for d in yaml.safe_load_all(
        (ROOT / "deploy" / "kubernetes.yaml").read_text(encoding="utf-8"))}
    assert set(docs) == {"Deployment", "Service", "Ingress"}
    pod = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert pod["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert pod["ports"][0]["containerPort"] == 8501
    notes = docs["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert docs["Service"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
