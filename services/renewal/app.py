"""The renewal service's HTTP entrypoint: `gunicorn 'services.renewal.app:create_app()'`."""

from __future__ import annotations

from flask import Flask

from contractflow.config import Settings
from contractflow.entrypoints import web_app
from services.renewal.bootstrap import bootstrap


def create_app(settings: Settings | None = None) -> Flask:
    return web_app(bootstrap, settings)
