"""The app the HTTP benchmark runs under gunicorn: a service kernel whose only workflow is
the trivial process (start -> user task -> end), served by the real workflow API."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from marshmallow import Schema, fields

from contractflow.config import Settings
from contractflow.gc_tuning import tune_for_service
from contractflow.service import build_kernel
from contractflow.service_workflows import attach_workflows
from contractflow.web import create_service_app
from contractflow.workflow import WorkflowRuntime


class Confirm(Schema):
    approved = fields.Boolean(load_default=True)


def create_app() -> Flask:
    kernel = build_kernel(Settings.from_env("negotiation"))
    runtime = WorkflowRuntime(kernel.service, outbox=kernel.outbox)
    runtime.forms.register("confirm", Confirm)
    attach_workflows(
        kernel, runtime, folder=Path(os.environ["BENCH_WORKFLOWS_DIR"]), starter_roles=("clerk",)
    )
    app = create_service_app(kernel.web())
    tune_for_service()  # as the services' entrypoint does
    return app
