"""Negotiation's composition root: the one place its parts are wired together.

Pre-signing preparation: the draft API and the stand-alone checks, the pre-signing
workflow (its service tasks, forms and messages), and the handler that brings the approval
service's answer back to the waiting workflow. The database must be migrated first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractflow.config import Settings
from contractflow.db import utcnow
from contractflow.events.transport import Producer
from contractflow.mail import MailSender, SmtpTransport
from contractflow.service import ServiceKernel, build_kernel
from contractflow.service_workflows import attach_workflows, on_opened_tasks
from contractflow.worker import PeriodicJob
from contractflow.workflow import WorkflowRuntime
from services.negotiation import api, checks_api, handlers, people
from services.negotiation.forms import FORMS
from services.negotiation.operations import register_operations
from services.negotiation.settings import NegotiationSettings

SERVICE = "negotiation"
# Who may start an instance by hand through /workflow/instances; drafts start their own.
WORKFLOW_STARTERS = ("workflow-admin",)


def build_runtime(
    kernel: ServiceKernel, clock: Callable[[], Any], public_url: str, **options: Any
) -> WorkflowRuntime:
    runtime = WorkflowRuntime(SERVICE, outbox=kernel.outbox, clock=clock, **options)
    register_operations(runtime, public_url=public_url)
    for form_key, schema in FORMS.items():
        runtime.forms.register(form_key, schema)
    runtime.publish_message("approval_requested", "approval.requested.v1")
    runtime.publish_message("contract_signed", "contract.signed.v1")
    return runtime


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Callable[[], Any] = utcnow,
    runtime_options: dict[str, Any] | None = None,
    negotiation_settings: NegotiationSettings | None = None,
) -> ServiceKernel:
    """`clock`, `runtime_options` (e.g. `instance_cache_size=0`) and `negotiation_settings`
    are for tests; task notices go out through SMTP_* / MAIL_FROM (contractflow.mail)."""
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    config = negotiation_settings or NegotiationSettings.from_env()
    public_url = config.public_base_url
    runtime = build_runtime(kernel, clock, public_url, **(runtime_options or {}))
    attach_workflows(kernel, runtime, starter_roles=WORKFLOW_STARTERS)
    context = handlers.HandlerContext(clock, runtime, kernel.settings.timezone)
    kernel.handlers.update(handlers.event_handlers(context))
    timezone = kernel.settings.timezone
    kernel.blueprints.append(
        api.make_blueprint(runtime, kernel.sessions, kernel.outbox, timezone=timezone, clock=clock)
    )
    kernel.blueprints.append(
        checks_api.make_checks_blueprint(kernel.sessions, timezone=timezone, clock=clock)
    )
    sender = MailSender(kernel.sessions, SmtpTransport(config.mail), config.mail.sender)
    notices = people.task_notices(public_url, clock)

    def send_mail(_producer: Producer) -> PeriodicJob:
        return sender.job(kernel.engine)  # woken by each committed mail

    def announce_tasks(_producer: Producer) -> PeriodicJob:
        return on_opened_tasks("task-notices", kernel.engine, notices.job(kernel.sessions))

    kernel.jobs.extend([send_mail, announce_tasks])
    kernel.extensions["negotiation.mail_sender"] = sender
    kernel.extensions["negotiation.task_notices"] = notices
    return kernel
