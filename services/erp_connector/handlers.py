"""Event type -> plain function(session, event, data), each run in the consumer's transaction
with the inbox row, so an event is booked once whatever Kafka redelivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from services.erp_connector import ledger
from services.erp_connector.settings import ErpConnectorSettings


def event_handlers(
    outbox: Outbox, config: ErpConnectorSettings, clock: Callable[[], dt.datetime]
) -> dict[str, EventHandler]:
    def signed(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        now = clock()
        ledger.book_signed(session, event.id, data, now)
        if config.auto_answer:
            contract_id = data["contract_id"]
            ledger.create_purchase_order(
                session, outbox, contract_id, f"PO-{contract_id}", None, now
            )

    def due(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        """The demo's ERP pays what is still open of a milestone the day it is due."""
        ledger.note_due(session, event.id, data, clock())
        if config.auto_answer:
            ledger.pay_due(session, outbox, event.id, data, clock())

    def booked_with(book: Callable[..., None]) -> EventHandler:
        def handle(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
            book(session, event.id, data, clock())

        return handle

    return {
        "contract.signed.v1": signed,
        "payment.due.v1": due,
        "contract.amended.v1": booked_with(ledger.book_amended),
        "contract.terminated.v1": booked_with(ledger.book_terminated),
        "contract.renewed.v1": booked_with(ledger.book_new_end),
        "contract.extended.v1": booked_with(ledger.book_new_end),
    }
