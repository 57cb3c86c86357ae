"""Email for every service: an outbox table written with the state change, a worker job
that sends it over SMTP, and Jinja2 templates rendered per language."""

from contractflow.mail.outbox import MailMessage, queue_mail
from contractflow.mail.sender import MailSender, MailSettings, SmtpTransport
from contractflow.mail.templates import MailTemplates, RenderedMail

__all__ = [
    "MailMessage",
    "MailSender",
    "MailSettings",
    "MailTemplates",
    "RenderedMail",
    "SmtpTransport",
    "queue_mail",
]
