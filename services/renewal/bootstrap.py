"""Renewal's composition root: the one place its parts are wired together.

Its own view of every signed contract (from contract.signed / amended / terminated), the
expiry watch over its deadline rows (reminders, maintenance checks, evaluations) as a
worker job, owner tasks as small workflows served by the kernel's `/workflow/…` inbox,
emails through the mail outbox. Tests pass their own settings, clock and mail settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contractflow.config import REPO_ROOT, Settings
from contractflow.db import utcnow
from contractflow.mail import MailSender, MailTemplates, SmtpTransport
from contractflow.service import ServiceKernel, build_kernel
from contractflow.service_workflows import attach_workflows, on_opened_tasks
from contractflow.worker import PeriodicJob
from contractflow.workflow import WorkflowRuntime
from services.renewal import api, handlers, payments_api
from services.renewal.erp_forms import ERP_FORMS
from services.renewal.expiry_watch import ExpiryWatch
from services.renewal.handover_notices import handover_notices
from services.renewal.mails import RenewalMails
from services.renewal.operations import register_operations
from services.renewal.schemas import FORMS
from services.renewal.settings import RenewalSettings

if TYPE_CHECKING:
    from contractflow.events.transport import Producer

SERVICE = "renewal"
TEMPLATES = REPO_ROOT / "services" / "renewal" / "templates"
# Who may start an instance by hand through /workflow/instances; the watch starts its own.
WORKFLOW_STARTERS = ("workflow-admin",)


def build_runtime(
    kernel: ServiceKernel,
    clock: Callable[[], Any],
    config: RenewalSettings,
    mails: RenewalMails,
    **options: Any,
) -> WorkflowRuntime:
    runtime = WorkflowRuntime(SERVICE, outbox=kernel.outbox, clock=clock, **options)
    register_operations(runtime, kernel.outbox, config, mails)
    for form_key, schema in FORMS.items():
        runtime.forms.register(form_key, schema)
    for follow_up_key, follow_up_form in ERP_FORMS.items():
        runtime.forms.register(follow_up_key, follow_up_form)
    runtime.publish_message("approval_requested", "approval.requested.v1")
    return runtime


def bootstrap(
    settings: Settings | None = None,
    *,
    renewal_settings: RenewalSettings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    runtime_options: dict[str, Any] | None = None,
    watch_poll_s: float = 1.0,
) -> ServiceKernel:
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    config = renewal_settings or RenewalSettings.from_env()
    mails = RenewalMails(MailTemplates(TEMPLATES), config.public_base_url)
    runtime = build_runtime(kernel, clock, config, mails, **(runtime_options or {}))
    attach_workflows(kernel, runtime, starter_roles=WORKFLOW_STARTERS)
    watch = ExpiryWatch(kernel.sessions, runtime, kernel.outbox, mails, config, clock=clock)
    context = handlers.HandlerContext(
        clock, config, kernel.settings.timezone, runtime, kernel.outbox, mails
    )
    kernel.handlers.update(handlers.event_handlers(context))
    kernel.blueprints.append(api.make_blueprint(kernel.sessions, kernel.outbox, clock))
    kernel.blueprints.append(payments_api.make_blueprint(kernel.sessions))
    sender = MailSender(kernel.sessions, SmtpTransport(config.mail), config.mail.sender)

    def expiry_watch(_producer: Producer) -> PeriodicJob:
        return PeriodicJob("renewal-expiry-watch", watch.tick, idle_s=watch_poll_s)

    def send_mail(_producer: Producer) -> PeriodicJob:
        return sender.job(kernel.engine)  # woken by each committed mail

    notices = handover_notices(config.public_base_url, clock)

    def announce_handover_tasks(_producer: Producer) -> PeriodicJob:
        return on_opened_tasks("task-notices", kernel.engine, notices.job(kernel.sessions))

    kernel.jobs.extend([expiry_watch, send_mail, announce_handover_tasks])
    kernel.extensions["renewal.task_notices"] = notices
    kernel.extensions["renewal.expiry_watch"] = watch
    kernel.extensions["renewal.mail_sender"] = sender
    return kernel
