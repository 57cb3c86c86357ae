"""A handler's verdict that an event can never be handled, whatever the retries.

Retrying a forged deployment or a document that does not validate only delays the dead
letter and holds the partition; a handler raises `EventRejected` and the consumer sets the
event aside at once, the `reason` as the dead letter's `dlq.reason` and the detail as its
`dlq.error`.
"""

from __future__ import annotations


class EventRejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
