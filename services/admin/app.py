"""The admin editor's HTTP entrypoint: `gunicorn 'services.admin.app:create_app()'`."""

from __future__ import annotations

from flask import Flask

from contractflow.config import Settings
from contractflow.logging import configure_logging
from contractflow.web import create_service_app
from services.admin.bootstrap import bootstrap
from services.admin.settings import AdminSettings


def create_app(
    settings: Settings | None = None, admin_settings: AdminSettings | None = None
) -> Flask:
    editor = bootstrap(settings, admin_settings)
    configure_logging("admin", editor.kernel.settings.log_level)
    return create_service_app(editor.web())
