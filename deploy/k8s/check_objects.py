"""Checks the objects one rendered overlay yields (read from stdin: `kustomize build ...`).

- Every object of a built-in kind against the Kubernetes OpenAPI schema of KUBE_VERSION,
  strictly (an unknown or misspelt field is an error), with kubernetes-validate (PyPI),
  which ships the schemas: nothing is fetched.
- Objects of the operators' kinds (Strimzi, CloudNativePG) must use an API version and kind
  those operators serve; their fields are the operators' to check (`kubectl apply
  --dry-run=server` against a cluster with the operators installed).
- The wiring the services need: each service's 2 Deployments (web and worker) with
  /readyz probes, every secret and ConfigMap they read exists in the overlay or is one
  the README says is created by hand or by an operator, the approval containers get
  LINK_SECRET, PUBLIC_BASE_URL and the SMTP settings, nothing loosens the security context.

Usage: check_objects.py OVERLAY_NAME < rendered.yaml; exit 1 listing every problem.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import yaml

KUBE_VERSION = os.environ.get("KUBE_VERSION", "1.30.0")
OPERATOR_KINDS = {
    ("kafka.strimzi.io/v1beta2", "Kafka"),
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
    ("postgresql.cnpg.io/v1", "Cluster"),
}
SERVICES = ("negotiation", "approval", "renewal")
# Secrets an overlay does not contain: created by hand (README) or by CloudNativePG.
EXTERNAL_SECRETS = {
    "production": {
        "contractflow-jwt",
        "contractflow-deploy",
        "contractflow-approval-links",
        "contractflow-negotiation-db-app",
        "contractflow-approval-db-app",
        "contractflow-renewal-db-app",
    },
}
APPROVAL_SETTINGS = ("LINK_SECRET", "PUBLIC_BASE_URL", "SMTP_HOST", "SMTP_PORT", "MAIL_FROM")
# Refused outside development when unset (contractflow.config.secret): every container
# that reads the settings (web, worker, migrate) needs them.
KERNEL_SECRETS = ("JWT_SECRET", "DEPLOY_SECRET")


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def settings_of(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            names |= set(config_maps.get(ref["name"], {}))
    return names


def check(overlay: str, objects: list[dict[str, Any]]) -> list[str]:
    problems = []
    for obj in objects:
        where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"
        if (obj.get("apiVersion"), obj.get("kind")) in OPERATOR_KINDS:
            continue
        if "." in obj.get("apiVersion", "").split("/")[0]:
            group = obj["apiVersion"].split("/")[0]
            if not group.endswith(".k8s.io"):
                problems.append(f"{where}: {obj['apiVersion']} is no kind this check knows")
                continue
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            problems.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{where}: no Kubernetes {KUBE_VERSION} schema ({exc})")

    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    config_maps = {name: cm.get("data", {}) for name, cm in by_kind.get("ConfigMap", {}).items()}
    secrets = set(by_kind.get("Secret", {})) | EXTERNAL_SECRETS.get(overlay, set())
    deployments = by_kind.get("Deployment", {})
    for service in SERVICES:
        for role in ("web", "worker"):
            name = f"contractflow-{service}-{role}"
            deployment = deployments.get(name)
            if deployment is None:
                problems.append(f"Deployment {name} is missing")
                continue
            for container in containers(deployment):
                where = f"Deployment {name}, container {container['name']}"
                context = container.get("securityContext", {})
                if context.get("allowPrivilegeEscalation", True) or not context.get(
                    "readOnlyRootFilesystem", False
                ):
                    problems.append(f"{where}: loosens the security context")
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref and not ref.get("optional") and ref["name"] not in secrets:
                        problems.append(f"{where}: reads Secret {ref['name']}, which none makes")
                for source in container.get("envFrom", []):
                    ref = source.get("configMapRef")
                    if ref and ref["name"] not in config_maps:
                        problems.append(f"{where}: reads ConfigMap {ref['name']}, which is missing")
                if container["name"] in ("web", "worker", "migrate"):
                    missing = set(KERNEL_SECRETS) - settings_of(container, config_maps)
                    if missing:
                        problems.append(f"{where}: does not set {', '.join(sorted(missing))}")
                probe = container.get("readinessProbe", {}).get("httpGet", {}).get("path")
                if container["name"] in ("web", "worker") and probe != "/readyz":
                    problems.append(f"{where}: no /readyz readiness probe")
                if service == "approval" and container["name"] in ("web", "worker"):
                    missing = set(APPROVAL_SETTINGS) - settings_of(container, config_maps)
                    if missing:
                        problems.append(f"{where}: does not set {', '.join(sorted(missing))}")
    return problems


def main() -> int:
    overlay = sys.argv[1]
    objects = [doc for doc in yaml.safe_load_all(sys.stdin) if doc]
    problems = check(overlay, objects)
    for problem in problems:
        print(f"FAIL {overlay}: {problem}", file=sys.stderr)
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(f"{'FAIL' if problems else 'ok  '} {overlay}: {len(objects)} objects ({summary})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
