"""Settings from the environment and the level plan built from the routing table's rows."""

from __future__ import annotations

import datetime as dt

import pytest

from contractflow.mail import MailSettings
from services.approval.directory import RoutingProblem
from services.approval.routing import plan_levels
from services.approval.settings import ApprovalSettings, parse_duration


def test_durations_and_their_order_are_checked() -> None:
    assert parse_duration("X", "P2D") == dt.timedelta(days=2)
    assert parse_duration("X", "PT4H30M") == dt.timedelta(hours=4, minutes=30)
    # The timers' own parser: weeks and months too, as a BPMN timer takes them.
    assert parse_duration("X", "P1W") == dt.timedelta(weeks=1)
    assert dt.timedelta(days=28) <= parse_duration("X", "P1M") <= dt.timedelta(days=31)
    settings = ApprovalSettings.from_env({"REMINDER_AFTER": "P1W", "ESCALATE_AFTER": "P1M"})
    assert settings.reminder_after == "P1W" and settings.escalate_after == "P1M"
    assert ApprovalSettings.from_env({"LINK_MAX_AGE": "P2W"}).link_max_age.days == 14
    with pytest.raises(ValueError, match="REMINDER_AFTER='2 days'"):
        ApprovalSettings.from_env({"REMINDER_AFTER": "2 days"})
    with pytest.raises(ValueError, match="ESCALATE_AFTER must be longer"):
        ApprovalSettings.from_env({"REMINDER_AFTER": "P3D", "ESCALATE_AFTER": "P1D"})


def test_smtp_settings_default_ports_follow_the_security_mode() -> None:
    assert MailSettings.from_env({"SMTP_SECURITY": "tls"}).port == 465
    assert MailSettings.from_env({"SMTP_SECURITY": "starttls"}).port == 587
    assert MailSettings.from_env({"SMTP_PORT": "2525"}).port == 2525
    with pytest.raises(ValueError, match="SMTP_SECURITY='ssl'"):
        MailSettings.from_env({"SMTP_SECURITY": "ssl"})


class Call:
    def __init__(self, **params) -> None:
        self.params = params
        self.variables = {"kind": "contract", "amount": "1.00", "risk": "low"}


def test_levels_are_ordered_renumbered_and_all_wins_on_a_shared_level() -> None:
    plan = plan_levels(
        Call(
            levels=[3, 1, 3, 2],
            roles=["general_manager", "department_manager", "legal", "finance_director"],
            modes=["one", "one", "all", "one"],
        )
    )
    assert plan["count"] == 3
    assert [(lv["number"], lv["roles"], lv["mode"]) for lv in plan["levels"]] == [
        (1, ["department_manager"], "one"),
        (2, ["finance_director"], "one"),
        (3, ["general_manager", "legal"], "all"),
    ]


def test_levels_that_skip_numbers_close_up() -> None:
    plan = plan_levels(
        Call(levels=[1, 3], roles=["department_manager", "legal"], modes=["one"] * 2)
    )
    assert [lv["number"] for lv in plan["levels"]] == [1, 2]


def test_no_matching_rule_is_a_problem_naming_the_inputs() -> None:
    with pytest.raises(RoutingProblem, match="matched no rule for kind='contract'"):
        plan_levels(Call(levels=[], roles=[], modes=[]))


def test_links_point_at_this_stacks_port_unless_told_otherwise() -> None:
    assert ApprovalSettings.from_env({}).public_base_url == "http://localhost:8002"
    assert ApprovalSettings.from_env({"APPROVAL_PORT": "8602"}).public_base_url == (
        "http://localhost:8602"
    )
    told = {"APPROVAL_PORT": "8602", "PUBLIC_BASE_URL": "https://approve.corp.test/"}
    assert ApprovalSettings.from_env(told).public_base_url == "https://approve.corp.test"
