"""Approval's composition root: the one place its parts are wired together.

Approvals routed by the DMN table to approvers from the directory, decided by signed
email links (mail outbox → SMTP), change and termination requests as BPMN workflows.
Tests pass their own settings, clock, approval settings and mail transport.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from contractflow.config import REPO_ROOT, Settings
from contractflow.db import utcnow
from contractflow.mail import MailSender, MailTemplates, SmtpTransport
from contractflow.service import ServiceKernel, build_kernel
from contractflow.service_workflows import attach_workflows, on_opened_tasks
from contractflow.worker import PeriodicJob
from contractflow.workflow import WorkflowRuntime
from services.approval import api, handlers, link_pages, request_api, task_mail
from services.approval.decisions import Decider
from services.approval.links import LinkSigner
from services.approval.mails import ApprovalMails
from services.approval.operations import register_operations
from services.approval.request_schemas import FORMS
from services.approval.schemas import ApprovalDecisionForm
from services.approval.settings import ApprovalSettings
from services.approval.task_router import TaskRouter, routing_job

if TYPE_CHECKING:
    from contractflow.events.transport import Producer

SERVICE = "approval"
TEMPLATES = REPO_ROOT / "services" / "approval" / "templates"


def bootstrap(
    settings: Settings | None = None,
    *,
    approval_settings: ApprovalSettings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    timer_poll_s: float = 1.0,
) -> ServiceKernel:
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    config = approval_settings or ApprovalSettings.from_env()
    runtime = WorkflowRuntime(SERVICE, outbox=kernel.outbox, clock=clock)
    templates = MailTemplates(TEMPLATES)
    links = LinkSigner(config.link_secret, config.link_max_age, clock)
    mails = ApprovalMails(templates, links, config.public_base_url)
    router = TaskRouter(runtime, mails)
    decider = Decider(runtime, router)

    register_operations(runtime, mails)
    runtime.forms.register("approval_decision", ApprovalDecisionForm)
    for form_key, schema in FORMS.items():
        runtime.forms.register(form_key, schema)
    runtime.publish_message("approval_decided", "approval.decided.v1")
    runtime.publish_message("approval_requested", "approval.requested.v1")
    attach_workflows(
        kernel,
        runtime,
        starter_roles=("workflow-admin", "contract-manager"),
        timer_poll_s=timer_poll_s,
    )
    context = handlers.HandlerContext(clock, config, runtime, router, mails)
    kernel.handlers.update(handlers.event_handlers(context))
    kernel.blueprints.append(api.make_blueprint(kernel.sessions, decider, clock, runtime, mails))
    kernel.blueprints.append(
        request_api.make_blueprint(kernel.sessions, runtime, config.public_base_url)
    )
    kernel.blueprints.append(
        link_pages.make_blueprint(kernel.sessions, links, templates, mails, decider, clock)
    )
    sender = MailSender(kernel.sessions, SmtpTransport(config.mail), config.mail.sender)

    def route_tasks(_producer: Producer) -> PeriodicJob:
        routing = routing_job(kernel.sessions, router)
        return on_opened_tasks("approval-task-routing", kernel.engine, routing)

    def send_mail(_producer: Producer) -> PeriodicJob:
        return sender.job(kernel.engine)  # woken by each committed mail

    notices = task_mail.task_notices(config.public_base_url, clock)

    def announce_tasks(_producer: Producer) -> PeriodicJob:
        return on_opened_tasks("task-notices", kernel.engine, notices.job(kernel.sessions))

    kernel.jobs.extend([route_tasks, send_mail, announce_tasks])
    kernel.extensions["approval.task_notices"] = notices
    kernel.extensions["approval.router"] = router
    kernel.extensions["approval.mail_sender"] = sender
    kernel.extensions["approval.decider"] = decider
    kernel.extensions["approval.links"] = links
    return kernel
