"""The shipped deployment files: Kubernetes manifests validated against the Kubernetes schemas
(kubernetes-validate's bundled JSON schemas, strict: an unknown field fails, offline), and the
promises each file makes checked on its content (probes, PDB, the secret key from a Secret, a
grace period that covers the shutdown deadline; compose's instances behind nginx)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
COMPOSE = ROOT / "deploy" / "compose"
KUBERNETES_VERSION = "1.33.0"


def manifests() -> dict[str, dict[str, Any]]:
    docs = [d for path in sorted(KUBE.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]
    return {d["kind"]: d for d in docs}


@pytest.mark.parametrize("kind", ["Deployment", "Service", "PodDisruptionBudget", "Secret", "ConfigMap"])
def test_manifest_is_valid_against_the_kubernetes_schema(kind: str) -> None:
    assert kubernetes_validate.validate(manifests()[kind], KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_an_unknown_field_and_a_wrong_type() -> None:
    deployment = copy.deepcopy(manifests()["Deployment"])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(manifests()["Deployment"])
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "45"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_deployment_probes_secret_resources_and_grace_period() -> None:
    found = manifests()
    deployment, gateway = found["Deployment"], container(found["Deployment"])
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["resources"]["requests"].keys() == {"cpu", "memory"}
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in gateway["env"] if "valueFrom" in e}
    assert secrets["GPTGATE_SECRET_KEY"] == {"name": "gptgate", "key": "secret-key"}
    assert secrets["GPTGATE_DATABASE_URL"] == {"name": "gptgate", "key": "database-url"}
    assert {"secret-key", "database-url"} <= found["Secret"]["stringData"].keys()
    shutdown = float(found["ConfigMap"]["data"]["GPTGATE_SHUTDOWN_SECONDS"])
    pause = float(gateway["lifecycle"]["preStop"]["exec"]["command"][1])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > pause + shutdown
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert found["Service"]["spec"]["selector"] == labels
    assert found["PodDisruptionBudget"]["spec"]["minAvailable"] == 1 < deployment["spec"]["replicas"]


def test_compose_runs_two_instances_behind_nginx_on_one_store_redis_and_key() -> None:
    compose = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    services = compose["services"]
    gateways = [s for name, s in services.items() if name.startswith("gateway-")]
    assert len(gateways) >= 2
    for gateway in gateways:
        env = gateway["environment"]
        assert (
            env["GPTGATE_DATABASE_URL"].startswith("postgresql://")
            and "@postgres:" in env["GPTGATE_DATABASE_URL"]
        )
        assert env["GPTGATE_REDIS_URL"] == "redis://redis:6379/0"
        assert env["GPTGATE_SECRET_KEY_FILE"] == "/run/secrets/gptgate_secret_key"
        assert gateway["secrets"] == ["gptgate_secret_key"]
        assert "/healthz" in " ".join(gateway["healthcheck"]["test"])
        grace = int(gateway["stop_grace_period"].removesuffix("s"))
        assert grace > float(env["GPTGATE_SHUTDOWN_SECONDS"])
    assert all("healthcheck" in services[name] for name in ("postgres", "redis", "nginx"))
    nginx_conf = (COMPOSE / "nginx.conf").read_text()
    upstream = nginx_conf.split("upstream gptgate {", 1)[1].split("}", 1)[0]
    assert [f"gateway-{n}:8080" in upstream for n in (1, 2)] == [True, True]
    assert "include /etc/nginx/gptgate-proxy.conf;" in nginx_conf
    mounts = services["nginx"]["volumes"]
    assert "../nginx/gptgate-proxy.conf:/etc/nginx/gptgate-proxy.conf:ro" in mounts


def test_the_proxy_settings_stream_and_retry_only_before_an_answer() -> None:
    conf = (ROOT / "deploy" / "nginx" / "gptgate-proxy.conf").read_text()
    directives = {
        line.split()[0]: line.split(None, 1)[1] for line in conf.splitlines() if line and line[0] != "#"
    }
    assert directives["proxy_buffering"] == "off;"
    assert directives["proxy_read_timeout"] == "3600s;"
    assert directives["proxy_next_upstream"] == "error timeout non_idempotent;"
    assert "proxy_request_buffering" not in directives  # bodies buffered: a retry can resend them
