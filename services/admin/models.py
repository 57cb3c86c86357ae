"""The admin editor's one table: the audit of every deploy attempt, refused ones too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contractflow.db import Base, UTCDateTime, utcnow


class DeployAudit(Base):
    """Who deployed (or rolled back, or tried to) which file of which service, and why."""

    __tablename__ = "admin_deploy_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    service: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))  # deploy | rollback
    outcome: Mapped[str] = mapped_column(String(16))  # deployed | unchanged | refused | failed
    definition_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rollback_to: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a sequence
    comment: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # the problems, as JSON

    __table_args__ = (Index("ix_admin_deploy_audit_file", "service", "file_name", "at"),)
