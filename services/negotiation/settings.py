"""Negotiation's own settings, read from the environment once (the shared Settings stay generic).

NEGOTIATION_PUBLIC_URL  where people's browsers reach this service, for links in approval
                        requests and task mails (http://localhost:<NEGOTIATION_PORT>); one
                        variable per service, because the services may share one env file
plus the SMTP_* / MAIL_FROM settings of contractflow.mail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from contractflow.config import DEFAULT_PORTS
from contractflow.mail import MailSettings


@dataclass(frozen=True)
class NegotiationSettings:
    public_base_url: str = f"http://localhost:{DEFAULT_PORTS['negotiation']}"
    mail: MailSettings = field(default_factory=MailSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NegotiationSettings:
        env = os.environ if env is None else env
        # By default where this process listens: a stack on other ports must not link
        # people to another stack's 8001.
        port = env.get("NEGOTIATION_PORT") or DEFAULT_PORTS["negotiation"]
        return cls(
            public_base_url=(
                env.get("NEGOTIATION_PUBLIC_URL") or f"http://localhost:{port}"
            ).rstrip("/"),
            mail=MailSettings.from_env(env),
        )
