"""A provider's master data as the ERP sends it (`erp.vendor.updated`), in the columns the
services keep it in: each service stores its own copy, read the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any


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
