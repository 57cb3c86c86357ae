"""Rates that turn the fees clause's quantities into money, and the default price list.

Default price list (CNY, net of tax), chosen to respect the seed's orderings:

| what                         | rate                                            |
|------------------------------|-------------------------------------------------|
| base maintenance, platform   | 2000.00 per month                               |
| base maintenance, per module | 500.00 per module per month                     |
| complexity factor            | low 1.00, medium 1.20, high 1.50 (maintenance)  |
| feature upgrade              | simple 3000.00, moderate 8000.00, complex 20000.00 each |
| backup, per GB per month     | monthly 0.10, weekly 0.30, daily 0.80           |
| support, per month           | phone 600.00 < online 900.00 < on-site 2500.00  |
| named user                   | 8.00 per user per month                         |
| concurrent user              | 20.00 per user per month                        |
| storage                      | 0.50 per GB per month                           |
| yearly payment discount      | 8 % of periodic fees                            |
| hourly work                  | normal 300.00, emergency 600.00 per hour        |
| licence                      | 150.00 per licensed user, one-off               |
| training, per session        | new users 2000.00, new features 1500.00, advanced 3000.00 |
| training, per attendee       | 50.00 on top of the session price               |
| travel                       | 1200.00 per on-site visit                       |
| installation (setup)         | 3000.00 platform + 300.00 per module, one-off   |
| debugging (setup)            | 2000.00 platform + 200.00 per module, one-off   |

Installation and debugging are priced only when the service content includes them
(`setup.installation`, `setup.debugging`): one-off on the start date, by the system's scale
(its functional modules), as base maintenance is. The seed lists them in the service
content (§2) but not in its fee basis (FAQ 3); a price per scale is what the seed does for
every other scale-driven service, and agreed rates can set either to 0 when included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from contractflow.contracts.money import DEFAULT_CURRENCY


class RateTable(Mapping[str, Decimal]):
    """A read-only, hashable rate table, so a PriceList stays a hashable frozen value."""

    def __init__(self, rates: Mapping[str, Decimal]) -> None:
        self._rates = dict(rates)

    def __getitem__(self, key: str) -> Decimal:
        return self._rates[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rates)

    def __len__(self) -> int:
        return len(self._rates)

    def __hash__(self) -> int:
        return hash(frozenset(self._rates.items()))

    def __repr__(self) -> str:
        return f"RateTable({self._rates!r})"


def _rates(**rates: str) -> RateTable:
    return RateTable({key: Decimal(value) for key, value in rates.items()})


@dataclass(frozen=True)
class PriceList:
    """All amounts in `currency`; rate tables are keyed by the enum values of the fees clause."""

    currency: str = DEFAULT_CURRENCY
    maintenance_platform_monthly: Decimal = Decimal("2000.00")
    maintenance_per_module_monthly: Decimal = Decimal("500.00")
    complexity_factor: RateTable = field(
        default_factory=lambda: _rates(low="1.00", medium="1.20", high="1.50")
    )
    upgrade_price: RateTable = field(
        default_factory=lambda: _rates(simple="3000.00", moderate="8000.00", complex="20000.00")
    )
    backup_per_gb_monthly: RateTable = field(
        default_factory=lambda: _rates(monthly="0.10", weekly="0.30", daily="0.80")
    )
    support_monthly: RateTable = field(
        default_factory=lambda: _rates(phone="600.00", online="900.00", on_site="2500.00")
    )
    named_user_monthly: Decimal = Decimal("8.00")
    concurrent_user_monthly: Decimal = Decimal("20.00")
    storage_gb_monthly: Decimal = Decimal("0.50")
    yearly_discount_percent: Decimal = Decimal("8")
    hourly_rate: RateTable = field(
        default_factory=lambda: _rates(normal="300.00", emergency="600.00")
    )
    licence_per_user: Decimal = Decimal("150.00")
    training_session_price: RateTable = field(
        default_factory=lambda: _rates(
            new_users="2000.00", new_features="1500.00", advanced="3000.00"
        )
    )
    training_per_attendee: Decimal = Decimal("50.00")
    travel_per_visit: Decimal = Decimal("1200.00")
    installation_platform: Decimal = Decimal("3000.00")
    installation_per_module: Decimal = Decimal("300.00")
    debugging_platform: Decimal = Decimal("2000.00")
    debugging_per_module: Decimal = Decimal("200.00")

    def rate(self, table_name: str, key: str) -> Decimal:
        """Look a rate up, naming the table and key when the price list lacks it."""
        table: Mapping[str, Decimal] = getattr(self, table_name)
        try:
            return table[key]
        except KeyError:
            raise KeyError(f"price list has no {table_name}[{key!r}]") from None


DEFAULT_PRICE_LIST = PriceList()
