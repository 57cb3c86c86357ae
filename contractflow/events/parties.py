"""Who publishes and who consumes each event type: the map the AsyncAPI document is drawn
from. `erp` is the customer's ERP (see README "Integrating your ERP"); `editor` is the admin
workflow editor. An empty consumer list is the truth, not a gap in the map: no service
reads that event yet. The services' own subscriptions are checked against this map by
tests/unit/events/test_asyncapi.py, so it cannot drift from their handlers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parties:
    publishers: tuple[str, ...]
    consumers: tuple[str, ...]


SERVICES = ("negotiation", "approval", "renewal")

# Event name (without the version) -> who sends it and who reads it.
PARTIES: dict[str, Parties] = {
    "approval.requested": Parties(("negotiation", "approval", "renewal"), ("approval",)),
    "approval.decided": Parties(("approval",), ("negotiation", "approval", "renewal")),
    "contract.signed": Parties(("negotiation",), ("approval", "renewal", "erp")),
    "contract.cancelled": Parties(("negotiation",), ("approval",)),
    "contract.amended": Parties(("approval",), ("negotiation", "renewal", "erp")),
    "contract.terminated": Parties(("approval",), ("negotiation", "renewal", "erp")),
    "contract.expiring": Parties(("renewal",), ("erp",)),
    "contract.evaluated": Parties(("renewal",), ("erp",)),
    "contract.extended": Parties(("renewal",), ("erp",)),
    "contract.renewed": Parties(("renewal",), ("erp",)),
    "tender.requested": Parties(("renewal",), ("negotiation", "erp")),
    "contract.handover.completed": Parties(("renewal",), ("erp",)),
    "contract.expired": Parties(("renewal",), ("erp",)),
    "payment.due": Parties(("renewal",), ("erp",)),
    "payment.overdue": Parties(("renewal",), ("erp",)),
    "service.kpi.reported": Parties(("erp",), ("renewal",)),
    "maintenance.performed": Parties(("erp",), ("renewal",)),
    "erp.employee.updated": Parties(("erp",), ("negotiation", "approval")),
    "erp.vendor.updated": Parties(("erp",), ("negotiation", "renewal")),
    "erp.purchase_order.created": Parties(("erp",), ("renewal",)),
    "erp.payment.recorded": Parties(("erp",), ("renewal",)),
    "workflow.definition.published": Parties(("editor",), SERVICES),
}


def parties_of(event_name: str) -> Parties:
    try:
        return PARTIES[event_name]
    except KeyError:
        raise LookupError(
            f"event {event_name!r} is in the catalogue but not in contractflow/events/parties.py:"
            " say who publishes and who consumes it"
        ) from None
