"""Ordinary business scripts still run, with the same results, under the allowlist and the
budget; and every definition the services ship passes the new check."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest

from contractflow.workflow.definitions import inspect
from contractflow.workflow.scripts import RestrictedEnvironment

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
DECISIONS = sorted(WORKFLOWS.glob("decisions/*.dmn"))


def _dependencies() -> list[tuple[str, str]]:
    return [(f"decisions/{p.name}", p.read_text(encoding="utf-8")) for p in DECISIONS]


@pytest.mark.parametrize(
    "path", sorted(WORKFLOWS.glob("*/*.bpmn")) + DECISIONS, ids=lambda p: p.name
)
def test_every_shipped_definition_passes_the_check(path):
    name = f"{path.parent.name}/{path.name}"
    deps = [] if path.suffix == ".dmn" else _dependencies()
    assert inspect(name, path.read_text(encoding="utf-8"), deps).problems == []


MOMENT = dt.datetime(2027, 1, 31, 9, 30, tzinfo=dt.UTC)
SCRIPTS = [
    ("fee = users * 12 + (100 if onsite else 0)", {"fee": 160}),
    ("level_number = level_number + 1", {"level_number": 2}),
    ("level_number += 1", {"level_number": 2}),
    ("total = sum(line['qty'] * line['price'] for line in lines)", {"total": 35}),
    ("names = sorted(line['sku'].upper() for line in lines)", {"names": ["A-1", "B-2"]}),
    ("band = 'large' if users >= 10 else 'small'", {"band": "small"}),
    ("ok = all(line['qty'] > 0 for line in lines) and any(lines)", {"ok": True}),
    ("skus = {line['sku']: line['qty'] for line in lines}", {"skus": {"a-1": 2, "b-2": 1}}),
    ("first, *rest = [1, 2, 3]", {"first": 1, "rest": [2, 3]}),
    ("label = f'{users:03d} users, {amount!s} CNY, {MOMENT:%Y-%m-%d}'", None),
    ("text = '%s: %.2f' % ('fee', 3.14159)", {"text": "fee: 3.14"}),
    ("due = (MOMENT + timedelta(days=30)).isoformat()", {"due": "2027-03-02T09:30:00+00:00"}),
    ("weekday = MOMENT.weekday()\nyear = MOMENT.year", {"weekday": 6, "year": 2027}),
    ("rounded = Decimal(amount).quantize(Decimal('0.1'))", {"rounded": decimal.Decimal("1200.5")}),
    ("months = ceil(users / 2)\nfloors = floor(2.7)", {"months": 3, "floors": 2}),
    ("parts = 'a, b ,c'.split(',')\nclean = [p.strip() for p in parts]", None),
    ("joined = ' / '.join(['x', 'y'])", {"joined": "x / y"}),
    (
        "seen = []\nfor i, line in enumerate(lines):\n    if line['qty'] > 1:\n"
        "        seen.append(i)\n    else:\n        continue",
        {"seen": [0]},
    ),
    ("meta = {'k': {'deep': 'v'}}\nmeta['k']['deep'] = 'w'\ndel meta['k']", {"meta": {}}),
    ("pairs = list(zip([1, 2], ['a', 'b']))", {"pairs": [(1, "a"), (2, "b")]}),
    ("found = 'b-2' in [line['sku'] for line in lines]", {"found": True}),
    ("kinds = isinstance(users, int) and isinstance(amount, str)", {"kinds": True}),
    ("count = len(list(filter(None, [0, 1, 2])))", {"count": 2}),
    ("biggest = max(lines, key=len)['sku']", {"biggest": "a-1"}),
    ("got = terms.get('missing', 'default')", {"got": "default"}),
    ("x = 7 // 2\ny = 7 % 2\nz = -(2 ** 10)\nw = 1 << 4", {"x": 3, "y": 1, "z": -1024, "w": 16}),
    ("if users > 3:\n    tier = 'b'\nelif users > 1:\n    tier = 'a'", {"tier": "b"}),
    ("assert users > 0, 'users must be positive'", None),
]


@pytest.mark.parametrize(("source", "expected"), SCRIPTS, ids=[s for s, _ in SCRIPTS])
def test_an_ordinary_script_runs_as_it_did(source, expected):
    context = {
        "users": 5,
        "onsite": True,
        "level_number": 1,
        "amount": "1200.50",
        "lines": [{"sku": "a-1", "qty": 2, "price": 10}, {"sku": "b-2", "qty": 1, "price": 15}],
        "terms": {},
        "MOMENT": MOMENT,
    }
    RestrictedEnvironment().execute(source, context)
    for name, value in (expected or {}).items():
        assert context[name] == value, name


def test_an_f_string_formats_as_python_does():
    context = {"users": 5, "amount": "1.5", "MOMENT": MOMENT}
    RestrictedEnvironment().execute(
        "label = f'{users:03d} {amount!r} {MOMENT:%Y-%m-%d} {users * 2}'", context
    )
    assert context["label"] == "005 '1.5' 2027-01-31 10"


def test_dmn_style_comparisons_and_a_raise_for_an_incident():
    environment = RestrictedEnvironment()
    assert environment.evaluate("dmninputexpr > 100000", {}, {"dmninputexpr": 200000})
    assert environment.evaluate("0 < n <= 10", {"n": 10})
    with pytest.raises(ValueError, match="no band"):
        environment.execute("raise ValueError('no band for ' + str(users))", {"users": 1})
