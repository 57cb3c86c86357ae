"""The connector's own settings (the shared Settings give its database, Kafka and topics).

ERP_AUTO_ANSWER   1: answer as the demo's ERP would, at once: a purchase order for each signed
                  contract, then payment of its first milestone (0: only by command)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ErpConnectorSettings:
    auto_answer: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ErpConnectorSettings:
        env = os.environ if env is None else env
        text = env.get("ERP_AUTO_ANSWER", "0")
        if text not in ("0", "1"):
            raise ValueError(f"ERP_AUTO_ANSWER={text!r}: use 1 (answer at once) or 0")
        return cls(auto_answer=text == "1")
