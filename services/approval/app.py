"""The approval service's HTTP entrypoint: `gunicorn 'services.approval.app:create_app()'`."""

from __future__ import annotations

from flask import Flask

from contractflow.config import Settings
from contractflow.entrypoints import web_app
from services.approval.bootstrap import bootstrap


def create_app(settings: Settings | None = None) -> Flask:
    return web_app(bootstrap, settings)
