import subprocess
import sys

import contractflow.contracts as contracts


def test_the_domain_does_not_pull_in_web_database_or_broker_code() -> None:
    # Both the negotiation and the approval service import this package; it must stay pure.
    probe = (
        "import sys, contractflow.contracts, contractflow.contracts.samples; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'kafka', 'psycopg') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert output.strip() == "[]"


def test_public_api_is_exported() -> None:
    for name in contracts.__all__:
        assert getattr(contracts, name) is not None
