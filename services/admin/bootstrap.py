"""The admin editor's composition root: the one place its parts are wired together.

It is a web process only: it has no worker, consumes no events and owns one table (the
deploy audit); everything else it reads and deploys through the services' APIs.
"""

from __future__ import annotations

from dataclasses import dataclass

from contractflow.config import Settings
from contractflow.db import is_reachable
from contractflow.service import ServiceKernel, build_kernel
from contractflow.web import ServiceWeb
from services.admin import api, pages
from services.admin.oidc_sign_in import OidcSettings, make_oidc_blueprint
from services.admin.settings import AdminSettings
from services.admin.upstreams import ServiceClient

SERVICE = "admin"


@dataclass
class AdminEditor:
    kernel: ServiceKernel
    settings: AdminSettings
    client: ServiceClient

    def web(self) -> ServiceWeb:
        return ServiceWeb(
            service=SERVICE,
            tokens=self.kernel.tokens,
            blueprints=self.kernel.blueprints,
            readiness={"database": lambda: is_reachable(self.kernel.engine)},
            registry=self.kernel.registry,
        )


def bootstrap(
    settings: Settings | None = None, admin_settings: AdminSettings | None = None
) -> AdminEditor:
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    admin = admin_settings or AdminSettings.from_env()
    client = ServiceClient(admin.service_urls, admin.upstream_timeout_s)
    kernel.blueprints.append(pages.make_pages_blueprint(admin, client, kernel.sessions))
    kernel.blueprints.append(api.make_api_blueprint(client, kernel.sessions))
    oidc = OidcSettings.from_env()
    if oidc is not None:
        kernel.blueprints.append(
            make_oidc_blueprint(oidc, admin.session_secret, admin.session_hours)
        )
    return AdminEditor(kernel, admin, client)
