"""The Kubernetes check (make k8s-validate, run by make test): the shipped overlays pass,
and what it exists to catch fails with the object and field named."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys

import pytest
import yaml

from contractflow.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "deploy" / "k8s"))
import check_objects


def rendered(overlay: str) -> list[dict]:
    kubectl, kustomize = shutil.which("kubectl"), shutil.which("kustomize")
    if kustomize:
        argv = [kustomize, "build"]
    elif kubectl:
        argv = [kubectl, "kustomize"]
    else:
        pytest.skip("neither kustomize nor kubectl: deploy/k8s/validate.sh builds one")
    path = REPO_ROOT / "deploy" / "k8s" / "overlays" / overlay
    text = subprocess.run([*argv, str(path)], capture_output=True, text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return rendered("production")


def deployment(objects: list[dict], name: str) -> dict:
    return next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name)


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_the_shipped_overlays_pass(overlay) -> None:
    assert check_objects.check(overlay, rendered(overlay)) == []


def test_a_misspelt_field_is_refused_by_the_kubernetes_schema(production) -> None:
    objects = copy.deepcopy(production)
    web = deployment(objects, "contractflow-negotiation-web")
    web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    problems = check_objects.check("production", objects)
    assert any("contractflow-negotiation-web" in p and "httpGett" in p for p in problems)


def test_approval_without_its_link_secret_is_refused(production) -> None:
    objects = copy.deepcopy(production)
    worker = deployment(objects, "contractflow-approval-worker")
    container = worker["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "LINK_SECRET"]
    problems = check_objects.check("production", objects)
    assert problems == [
        "Deployment contractflow-approval-worker, container worker: does not set LINK_SECRET"
    ]


def test_a_secret_nobody_makes_is_refused(production) -> None:
    objects = copy.deepcopy(production)
    web = deployment(objects, "contractflow-renewal-web")
    env = web["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0]["valueFrom"]["secretKeyRef"]["name"] = "contractflow-renewal-typo"
    problems = check_objects.check("production", objects)
    assert any("reads Secret contractflow-renewal-typo" in p for p in problems)
