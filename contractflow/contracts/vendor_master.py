"""A provider's master data as the ERP sends it (`erp.vendor.updated`), in the columns the
services keep it in: each service stores its own copy, read the same way."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, TypeVar

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from contractflow.db import UTCDateTime

log = logging.getLogger(__name__)


class VendorMasterColumns:
    """The columns of a service's own vendor table (mixed into its mapped class, which names
    the table): what `master_data_columns` fills."""

    vendor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    licence_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    licence_valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # [{"name", "number", "valid_until"}] as the event carries them
    certifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


Row = TypeVar("Row", bound=VendorMasterColumns)


def master_data_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The loaded event data as column values: name, licence number and end, and the
    certifications as plain JSON (`valid_until` an ISO date or None)."""
    licence = data["business_licence"]
    return {
        "name": data["name"],
        "licence_number": licence.get("number"),
        "licence_valid_until": licence.get("valid_until"),
        "certifications": [
            {
                "name": c["name"],
                "number": c.get("number"),
                "valid_until": c["valid_until"].isoformat() if c.get("valid_until") else None,
            }
            for c in data.get("certifications") or []
        ],
        "updated_at": data["updated_at"],
    }


def is_newer(kept_updated_at: dt.datetime | None, data: dict[str, Any]) -> bool:
    """The ERP orders its updates by `updated_at`: one not newer than the kept copy (the
    same again, or an older one arriving late) changes nothing."""
    return kept_updated_at is None or data["updated_at"] > kept_updated_at


def keep_if_newer(session: Session, model: type[Row], data: dict[str, Any]) -> Row | None:
    """The service's row for the vendor, created or updated from `data` under a row lock;
    None when `data` is not newer than what is kept (then nothing changes)."""
    vendor = session.get(model, data["vendor_id"], with_for_update=True)
    if not is_newer(vendor.updated_at if vendor else None, data):
        log.info(
            "vendor %s: update of %s is not newer than the one kept; ignored",
            data["vendor_id"],
            data["updated_at"],
        )
        return None
    if vendor is None:
        vendor = model(vendor_id=data["vendor_id"])  # type: ignore[call-arg]  # Base's
        session.add(vendor)
    for column, value in master_data_columns(data).items():
        setattr(vendor, column, value)
    return vendor
