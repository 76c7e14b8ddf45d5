"""The container image and the Kubernetes manifests: schema-valid and production-shaped."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import yaml
from dockerfile_parse import DockerfileParser
from manifest_support import MANIFESTS

from mcp_agents import __version__
from mcp_agents.settings import COMMAND, OPTIONS

K8S = MANIFESTS / "k8s"


def _resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


def test_every_kubernetes_manifest_is_schema_valid_strictly() -> None:
    resources = _resources()
    for kind, resource in resources.items():
        kubernetes_validate.validate(resource, kubernetes_validate.latest_version(), strict=True), kind
    assert set(resources) == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
                              "PodDisruptionBudget", "NetworkPolicy"}


def test_the_validator_refuses_a_wrong_field() -> None:
    deployment = _resources()["Deployment"]
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/healthz"
    try:
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError:
        return
    raise AssertionError("a misspelt field passed strict validation")


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def test_deployment_probes_health_runs_unprivileged_and_references_the_secret() -> None:
    resources = _resources()
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]
    secret_refs = [item["valueFrom"]["secretKeyRef"]["name"] for item in container["env"] if "valueFrom" in item]
    assert secret_refs and set(secret_refs) == {"mcp-agents"}
    assert "Secret" not in resources  # referenced, never committed
    assert container["envFrom"] == [{"configMapRef": {"name": resources["ConfigMap"]["metadata"]["name"]}}]
    assert resources["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2"
    assert container["image"].endswith(f":{__version__}")  # the release these manifests describe
    service_port = resources["Service"]["spec"]["ports"][0]["targetPort"]
    assert service_port in {port["name"] for port in container["ports"]}


def test_config_map_holds_only_known_non_secret_settings() -> None:
    known = {option.env: option for option in OPTIONS if option.env}
    data = _resources()["ConfigMap"]["data"]
    for name in data:
        assert name in known and not known[name].secret, name
    assert data["MCP_AGENTS_HTTP_AUTH"] == "required"  # the server refuses 0.0.0.0 otherwise


def test_deployment_reads_only_settings_the_server_knows() -> None:
    known = {option.env for option in OPTIONS if option.env}
    (container,) = _resources()["Deployment"]["spec"]["template"]["spec"]["containers"]
    unknown = sorted({item["name"] for item in container["env"]} - known)
    assert unknown == []


def _dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(MANIFESTS / "docker" / "Dockerfile"))


def test_dockerfile_is_slim_non_root_with_health_check() -> None:
    parser = _dockerfile()
    instructions = [(item["instruction"], item["value"]) for item in parser.structure]
    assert parser.baseimage.startswith("python:3.12-slim")
    users = [value for name, value in instructions if name == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    (health,) = [value for name, value in instructions if name == "HEALTHCHECK"]
    assert "/healthz" in health and "curl" not in health and "python" in health
    assert ("EXPOSE", "8765") in instructions
    cmd = json.loads(parser.cmd) if parser.cmd.startswith("[") else parser.cmd.split()
    entrypoint = [json.loads(value) for name, value in instructions if name == "ENTRYPOINT"][-1]
    assert entrypoint + cmd == [COMMAND, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8765",
                                  "--auth", "required"]
