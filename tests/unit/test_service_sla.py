"""The staff console's service targets (bank.yml ``service``): when a live chat is late,
when a callback is overdue, when to call again, when unanswered calls need a decision."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff.service import (
    ServiceConfigError,
    ServicePolicy,
    callback_needs_decision,
    callback_retry_at,
    handoff_sla,
    policy_from_mapping,
)

BASE: dict[str, object] = {"timezone": "Europe/London", "hours": {"mon": "08:00-20:00"}}
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def test_the_shipped_targets(policy: ServicePolicy) -> None:
    assert policy.live_chat_sla == minutes(5)
    assert policy.callback_sla == minutes(0)
    assert policy.callback_retry == minutes(15)
    assert policy.callback_no_answers == 3


def test_targets_default_when_not_configured() -> None:
    policy = policy_from_mapping(BASE)
    assert (policy.live_chat_sla, policy.callback_sla, policy.callback_retry, policy.callback_no_answers) == (
        minutes(5),
        minutes(0),
        minutes(15),
        3,
    )


def test_targets_are_read() -> None:
    policy = policy_from_mapping(
        {
            **BASE,
            "live_chat_sla_minutes": 2,
            "callback_sla_minutes": 30,
            "callback_retry_minutes": 0,
            "callback_no_answers": 5,
        }
    )
    assert (policy.live_chat_sla, policy.callback_sla, policy.callback_retry, policy.callback_no_answers) == (
        minutes(2),
        minutes(30),
        minutes(0),
        5,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("live_chat_sla_minutes", -1),
        ("live_chat_sla_minutes", "5"),
        ("live_chat_sla_minutes", True),
        ("callback_sla_minutes", 1.5),
        ("callback_retry_minutes", None),
        ("callback_no_answers", 0),
    ],
)
def test_invalid_targets_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ServiceConfigError, match=rf"bank.yml: service\.{field}"):
        policy_from_mapping({**BASE, field: value}, where="bank.yml: service")


@pytest.mark.parametrize(
    ("status", "waited", "late"),
    [
        ("open", 4.9, False),
        ("open", 5, False),  # exactly on target
        ("open", 5.1, True),
        ("open", 90, True),
        ("claimed", 90, False),  # a person has it
        ("done", 90, False),
        ("cancelled", 90, False),
    ],
)
def test_a_live_chat_is_late_while_nobody_has_claimed_it_past_the_target(
    policy: ServicePolicy, status: str, waited: float, late: bool
) -> None:
    sla = handoff_sla(policy, kind="live_chat", status=status, created_at=T0, now=T0 + minutes(waited))
    assert sla.late is late
    assert sla.due_at == T0 + minutes(5)


@pytest.mark.parametrize(
    ("status", "after_window_start", "late"),
    [
        ("open", -60, False),
        ("open", 0, False),
        ("open", 1, True),
        ("claimed", 1, True),  # claimed but not yet done: still overdue
        ("done", 120, False),
        ("cancelled", 120, False),
    ],
)
def test_a_callback_is_overdue_once_its_window_opened_and_it_is_not_done(
    policy: ServicePolicy, status: str, after_window_start: float, late: bool
) -> None:
    window_start = T0 + dt.timedelta(hours=3)
    sla = handoff_sla(
        policy,
        kind="callback",
        status=status,
        created_at=T0,
        window_start=window_start,
        now=window_start + minutes(after_window_start),
    )
    assert sla.late is late
    assert sla.due_at == window_start


def test_a_callback_target_may_allow_some_minutes_and_without_a_window_counts_from_the_request() -> None:
    policy = policy_from_mapping({**BASE, "callback_sla_minutes": 20})
    start = T0 + dt.timedelta(hours=1)
    kwargs = {"kind": "callback", "status": "open", "created_at": T0, "window_start": start}
    assert not handoff_sla(policy, **kwargs, now=start + minutes(20)).late  # type: ignore[arg-type]
    assert handoff_sla(policy, **kwargs, now=start + minutes(21)).late  # type: ignore[arg-type]
    no_window = handoff_sla(policy, kind="callback", status="open", created_at=T0, now=T0 + minutes(21))
    assert no_window.late and no_window.due_at == T0 + minutes(20)


def test_an_unknown_kind_is_an_error(policy: ServicePolicy) -> None:
    with pytest.raises(ValueError, match="unknown handoff kind 'email'"):
        handoff_sla(policy, kind="email", status="open", created_at=T0, now=T0)


def test_unanswered_calls_retry_later_and_need_a_decision_after_the_limit(policy: ServicePolicy) -> None:
    assert callback_retry_at(policy, None) is None
    assert callback_retry_at(policy, T0) == T0 + minutes(15)
    assert [callback_needs_decision(policy, n) for n in range(5)] == [False, False, False, True, True]
