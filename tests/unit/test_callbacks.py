"""Business hours, callback windows, the customer's choice of time, numbers, live-chat waits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.core.phones import parse_phone
from bot.handoff.service import (
    ServiceConfigError,
    ServicePolicy,
    live_chat_wait,
    policy_from_mapping,
)
from bot.handoff.windows import (
    Window,
    callback_windows,
    closed_hours_text,
    local_time_name,
    moment_label,
    parse_window_choice,
    window_label,
)

LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = LONDON) -> dt.datetime:
    # November 2026: the 23rd is a Monday, the 28th a Saturday, the 29th a Sunday.
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=tz)


def test_windows_on_a_weekday_morning_start_with_as_soon_as_possible(policy: ServicePolicy) -> None:
    windows = callback_windows(policy, at(23, 10, 20))
    assert windows[0].asap and windows[0].start == at(23, 10, 20) and windows[0].end == at(23, 12, 20)
    assert [(w.start, w.end) for w in windows[1:]] == [
        (at(23, 11), at(23, 13)),
        (at(23, 13), at(23, 15)),
        (at(23, 15), at(23, 17)),
    ]


def test_windows_late_in_the_day_move_to_the_next_opening_and_skip_sunday(policy: ServicePolicy) -> None:
    windows = callback_windows(policy, at(28, 16, 45))  # Saturday, closes at 17:00
    assert not any(w.asap for w in windows), "too close to closing for 'as soon as possible'"
    assert windows[0].start == at(30, 8), "Sunday is closed: Monday 08:00"
    assert all(policy.hours.is_open(w.start) and w.end <= at(30, 20) for w in windows)


def test_every_window_lies_inside_business_hours_all_week(policy: ServicePolicy) -> None:
    for day in range(23, 30):
        for hour in range(0, 24, 3):
            for w in callback_windows(policy, at(day, hour)):
                assert policy.hours.is_open(w.start)
                assert policy.hours.is_open(w.end - dt.timedelta(minutes=1))
                assert w.start >= at(day, hour)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Tomorrow, 9–11am"), ("es", "Mañana, 09:00–11:00"), ("fr", "Demain, 09:00–11:00")],
)
def test_labels_are_in_the_customer_language_and_timezone(language: str, expected: str) -> None:
    window = Window(at(24, 8), at(24, 10))  # 08:00 London = 09:00 Paris
    assert window_label(window, tz=PARIS, language=language, now=at(23, 18)) == expected
    later = window_label(Window(at(26, 8), at(26, 10)), tz=LONDON, language=language, now=at(23, 18))
    assert later.startswith(
        {"en": "Thursday 26 November", "es": "Jueves 26 de noviembre", "fr": "Jeudi 26 novembre"}[language]
    ), "a date in words, never 26/11 (read day-first or month-first)"


def choose(policy: ServicePolicy, text: str, now: dt.datetime) -> Window | None:
    options = callback_windows(policy, now)
    labels = [window_label(w, tz=LONDON, language="en", now=now) for w in options]
    return parse_window_choice(text, options=options, labels=labels, policy=policy, tz=LONDON, now=now)


def test_choice_by_number_label_or_asap_words(policy: ServicePolicy) -> None:
    now = at(23, 10, 20)
    options = callback_windows(policy, now)
    assert choose(policy, "2", now) == options[1]
    assert choose(policy, "option 3", now) == options[2]
    assert choose(policy, "Today 13:00-15:00", now) == options[2]
    assert choose(policy, "as soon as possible please", now) == options[0]
    assert choose(policy, "lo antes posible", now) == options[0]
    assert choose(policy, "9", now) is None


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("at 3pm", at(23, 15)),
        ("15:30", at(23, 15, 30)),
        ("tomorrow at 10", at(24, 10)),
        ("demain 9h", at(24, 9)),
        ("mañana a las 18:00", at(24, 18)),
        ("9am", at(24, 9)),  # 9am has passed today: tomorrow
    ],
)
def test_choice_by_clock_time_inside_hours(policy: ServicePolicy, text: str, start: dt.datetime) -> None:
    chosen = choose(policy, text, at(23, 10, 20))
    assert chosen is not None and chosen.start == start
    assert policy.hours.is_open(chosen.start) and chosen.end <= chosen.start + policy.window


@pytest.mark.parametrize(
    ("text", "now", "start"),
    [
        # Monday 10:20: today's morning is still open (lead time 30 minutes).
        ("this morning", at(23, 10, 20), at(23, 11)),
        ("tomorrow morning", at(23, 10, 20), at(24, 8)),
        ("mañana por la mañana", at(23, 10, 20), at(24, 8)),
        ("por la mañana", at(23, 10, 20), at(23, 11)),  # "in the morning", not "tomorrow"
        ("demain matin", at(23, 10, 20), at(24, 8)),
        ("in the afternoon", at(23, 10, 20), at(23, 12)),
        ("por la tarde", at(23, 10, 20), at(23, 12)),
        ("cet après-midi", at(23, 10, 20), at(23, 12)),
        ("this evening", at(23, 10, 20), at(23, 17)),
        ("tomorrow", at(23, 10, 20), at(24, 8)),
        ("mañana", at(23, 10, 20), at(24, 8)),
        # Monday 15:05: the morning has passed, so the next one.
        ("in the morning", at(23, 15, 5), at(24, 8)),
        ("this afternoon", at(23, 15, 5), at(23, 15, 45)),
        # Friday: Saturday opens at 9.
        ("tomorrow morning", at(27, 4, 40), at(28, 9)),
        ("mañana por la mañana", at(27, 4, 40), at(28, 9)),
    ],
)
def test_choice_by_part_of_the_day(
    policy: ServicePolicy, text: str, now: dt.datetime, start: dt.datetime
) -> None:
    chosen = choose(policy, text, now)
    assert chosen is not None and chosen.start == start, text
    assert policy.hours.is_open(chosen.start) and chosen.end <= chosen.start + policy.window


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("tomorrow evening", at(27, 10)),  # Saturday closes at 5pm
        ("tomorrow morning", at(28, 10)),  # closed on Sunday
        ("demain", at(28, 10)),
    ],
)
def test_a_part_of_the_day_when_the_lines_are_closed_is_refused(
    policy: ServicePolicy, text: str, now: dt.datetime
) -> None:
    assert choose(policy, text, now) is None


@pytest.mark.parametrize("text", ["at 7am", "at 11pm", "tomorrow at 6am", "25:00", "whenever", ""])
def test_choice_outside_hours_or_too_soon_is_refused(policy: ServicePolicy, text: str) -> None:
    assert choose(policy, text, at(23, 10, 20)) is None


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("07911 123456", "+447911123456"),
        ("call me on +44 7911 123456 please", "+447911123456"),
        ("whatsapp:+34612345678", "+34612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("020 7946 0000", "+442079460000"),
    ],
)
def test_phone_numbers_are_parsed_to_e164(text: str, e164: str) -> None:
    number = parse_phone(text, region="GB")
    assert number is not None and number.e164 == e164 and number.display.startswith("+")


def test_a_number_without_country_code_is_read_in_the_conversations_language_last() -> None:
    from bot.core.phones import parse_callback_number

    # A French mobile typed the French way is no UK number: read as French in French.
    french = parse_callback_number("06 12 34 56 78", known=None, default_region="GB", language_region="FR")
    assert french is not None and french.e164 == "+33612345678" and french.display == "+33 6 12 34 56 78"
    assert parse_callback_number("06 12 34 56 78", known=None, default_region="GB") is None
    # A number that is one of the bank's region stays one: the language comes last.
    uk = parse_callback_number("07911 123456", known=None, default_region="GB", language_region="FR")
    assert uk is not None and uk.e164 == "+447911123456"
    # The customer's own region still comes first.
    spain = parse_callback_number(
        "612 98 76 54", known=None, default_region="GB", home_region="ES", language_region="FR"
    )
    assert spain is not None and spain.e164 == "+34612987654"


def test_the_service_reads_the_language_regions() -> None:
    base: dict[str, object] = {"timezone": "Europe/London", "hours": {"mon": "08:00-20:00"}}
    policy = policy_from_mapping({**base, "language_regions": {"fr": "fr", "es": "ES"}})
    assert dict(policy.language_regions) == {"fr": "FR", "es": "ES"}
    assert dict(policy_from_mapping(base).language_regions) == {}


@pytest.mark.parametrize("text", ["12345", "my number is secret", "0000 000000", "+44 12"])
def test_invalid_numbers_are_refused(text: str) -> None:
    assert parse_phone(text, region="GB") is None


@pytest.mark.parametrize(
    "text",
    [
        "09098 790000",  # UK premium rate
        "0845 464 0000",  # UK shared cost
        "+33 8 99 12 34 56",  # French premium rate
        "+34 803 123 456",  # Spanish premium rate
        "076 2345 6789",  # UK pager
    ],
)
def test_numbers_the_bank_never_rings_are_refused_for_callbacks(text: str) -> None:
    assert parse_phone(text, region="GB") is not None, "a real number"
    assert parse_phone(text, region="GB", for_callback=True) is None


@pytest.mark.parametrize("text", ["07911 123456", "020 7946 0000", "0800 123 4567", "+34 612 345 678"])
def test_mobiles_landlines_and_freephone_are_callable(text: str) -> None:
    assert parse_phone(text, region="GB", for_callback=True) is not None


def test_live_chat_wait_is_honest_about_queue_and_opening_hours(policy: ServicePolicy) -> None:
    assert live_chat_wait(policy, ahead=0, now=at(23, 10)).minutes == 8
    assert live_chat_wait(policy, ahead=7, now=at(23, 10)).minutes == 24  # (7 // 3 + 1) × 8
    closed = live_chat_wait(policy, ahead=0, now=at(29, 12))  # Sunday
    assert closed.minutes is None and closed.opens_at == at(30, 8)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"hours": {"funday": "08:00-20:00"}}, "funday"),
        ({"hours": {"mon": "20:00-08:00"}}, "hours.mon"),
        ({"hours": {"mon": "8-20"}}, "hours.mon"),
        ({"callback_window_minutes": 0}, "callback_window_minutes"),
        ({"default_region": "XX"}, "default_region"),
        ({"language_regions": {"fr": "XX"}}, "language_regions.fr"),
        ({"language_regions": ["FR"]}, "language_regions"),
    ],
)
def test_invalid_service_configuration_names_the_field(change: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"timezone": "Europe/London", "hours": {"mon": "08:00-20:00"}}
    with pytest.raises(ServiceConfigError, match=field):
        policy_from_mapping({**base, **change}, where="bank.yml: service")


def test_a_window_survives_its_slot_forms_and_malformed_ones_are_refused() -> None:
    window = Window(at(24, 8), at(24, 10))
    assert Window.from_interval(window.to_interval()) == window
    assert Window.from_json(window.to_json()) == window
    for bad in (None, "", "2026-11-24T08:00", "a/b", "2026-11-24T10:00+00:00/2026-11-24T08:00+00:00"):
        assert Window.from_interval(bad) is None, bad
    assert Window.from_interval("2026-11-24T08:00/2026-11-24T10:00") is None, "no timezone, no window"


@pytest.mark.parametrize(
    ("opens", "language", "expected"),
    [
        (at(24, 8), "en", "Tomorrow, 8am"),
        (at(24, 8), "es", "Mañana, 08:00"),
        (at(23, 21), "fr", "Aujourd'hui, 21:00"),
        (at(26, 8), "en", "Thursday 26 November, 8am"),
    ],
)
def test_moments_are_told_in_the_customers_words(opens: dt.datetime, language: str, expected: str) -> None:
    assert moment_label(opens, tz=LONDON, language=language, now=at(23, 20)) == expected


@pytest.mark.parametrize(
    ("now", "language", "expected"),
    [
        (at(23, 21, 5), "en", "closed now; open again tomorrow at 8am"),
        (at(24, 6), "es", "ahora cerrado; vuelve a abrir hoy a las 08:00"),
        (at(28, 18), "fr", "fermé pour le moment ; réouverture lundi à 08:00"),  # Saturday evening
        (at(28, 18), "en", "closed now; open again on Monday at 8am"),
        (at(23, 10), "en", None),
    ],
)
def test_out_of_hours_the_hours_say_when_the_lines_open_again(
    policy: ServicePolicy, now: dt.datetime, language: str, expected: str | None
) -> None:
    assert closed_hours_text(policy, now=now, tz=LONDON, language=language) == expected


@pytest.mark.parametrize(
    ("zone", "language", "name"),
    [
        ("Europe/London", "en", "UK time"),
        ("Europe/London", "fr", "heure du Royaume-Uni"),
        ("Europe/Madrid", "es", "hora peninsular"),
        ("Europe/Lisbon", "en", "Lisbon time"),
        ("America/New_York", "es", "hora de New York"),
    ],
)
def test_the_customers_time_is_named_as_people_say_it(zone: str, language: str, name: str) -> None:
    assert local_time_name(ZoneInfo(zone), language) == name
