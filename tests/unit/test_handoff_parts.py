"""Smaller parts of escalation: requests, transcripts, routes, seed validation, the CLI,
resuming the assistant, and run-time choices rendered for the channel."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main as cli
from bot.handoff.rasa_api import RasaApiError, resume_conversation
from bot.handoff.request import REFERENCE_ALPHABET, HandoffRequest, new_reference
from bot.handoff.transcript import build_transcript
from bot.persona.profile import Profile, ProfileError
from bot.store.seed import SeedError, parse_seed
from bot.wording import RenderContext, Renderer

PERSONAS = ["quick_mobile", "phone_first", "time_pressed", "technical", "default"]


def test_references_are_short_readable_and_typed_by_kind() -> None:
    refs = {new_reference("callback") for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(f"CB-[{REFERENCE_ALPHABET}]{{6}}", r) for r in refs)
    assert new_reference("live_chat").startswith("LC-")


def test_request_validation_and_json_round_trip() -> None:
    with pytest.raises(ValueError, match="unknown handoff kind 'email'"):
        HandoffRequest(kind="email", reason="r", sender_id="s", transcript=[])
    with pytest.raises(ValueError, match="needs a callback number"):
        HandoffRequest(kind="callback", reason="r", sender_id="s", transcript=[])
    start = dt.datetime(2026, 11, 24, 9, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError, match="ends before it starts"):
        HandoffRequest(
            kind="callback", reason="r", sender_id="s", transcript=[], callback_number="+1",
            window_start=start, window_end=start,
        )  # fmt: skip
    req = HandoffRequest(
        kind="callback", reason="r", sender_id="s", transcript=[{"from": "customer", "text": "ñ 🙏"}],
        callback_number="+447911123456", window_start=start, window_end=start + dt.timedelta(hours=2),
        persona_evidence=["a"],
    )  # fmt: skip
    assert HandoffRequest.from_json(json.loads(json.dumps(req.to_json()))) == req


def test_transcript_has_both_sides_timestamps_channel_and_redaction() -> None:
    events = [
        {"event": "user", "text": "old session", "timestamp": 1.0},
        {"event": "session_started"},
        {"event": "user", "text": "my IBAN is GB82 WEST 1234 5698 7654 32", "timestamp": 1795428000.5,
         "input_channel": "twilio", "metadata": {}},
        {"event": "bot", "text": "Anything else?", "timestamp": 1795428001.0,
         "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]}},
        {"event": "slot", "name": "x", "value": 1},
        {"event": "user", "text": "   ", "timestamp": 1795428002.0},
    ]  # fmt: skip
    transcript = build_transcript(events)
    assert [e["from"] for e in transcript] == ["customer", "assistant"]
    assert transcript[0]["text"] == "my IBAN is [IBAN removed]" and transcript[0]["redacted"] == ["iban"]
    assert transcript[0]["at"] == "2026-11-23T10:00:00.500+00:00"
    assert transcript[0]["channel"] == transcript[1]["channel"] == "twilio"
    assert transcript[1]["buttons"] == ["Yes"]


def test_profile_consent_and_timezone_fields() -> None:
    p = Profile.from_mapping({"consent_to_calls": False, "timezone": "Europe/Madrid"}, strict=True)
    assert p.refuses_calls and p.timezone == "Europe/Madrid"
    with pytest.raises(ProfileError, match="timezone"):
        Profile.from_mapping({"timezone": "Europe/Atlantis"}, strict=True)
    with pytest.raises(ProfileError, match="consent_to_calls"):
        Profile.from_mapping({"consent_to_calls": "yes"}, strict=True)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("customers: {}", "expected a top-level 'customers:' list"),
        ("customers:\n  - name: X\n", "customer #1: field 'ref'"),
        ("customers:\n  - ref: C-1\n  - ref: C-1\n", "customer 'C-1': duplicate ref"),
        ("customers:\n  - ref: C-1\n    age: 70\n", "customer 'C-1': unknown field 'age'"),
        ("customers:\n  - ref: C-1\n    preferred_channel: fax\n", "customer 'C-1': preferred_channel"),
        ("customers:\n  - ref: C-1\n    persona: grumpy\n", "customer 'C-1': field 'persona'"),
        ("customers:\n  - ref: C-1\n    identities: {phone: '123'}\n", "field 'identities.phone'"),
        ("customers:\n  - ref: C-1\n    identities: {fax: '123'}\n", "field 'identities.fax'"),
        (
            "customers:\n  - ref: C-1\n    identities: {web: a}\n  - ref: C-2\n    identities: {web: a}\n",
            "already belongs to 'C-1'",
        ),
    ],
)
def test_invalid_seed_names_file_customer_and_field(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "customers.yml"
    path.write_text(yaml_text)
    with pytest.raises(SeedError) as err:
        parse_seed(path, personas=PERSONAS)
    assert str(path) in str(err.value) and message in str(err.value)


def test_cli_seed_and_the_staff_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store.db import Database
    from bot.store.repository import HandoffRepository

    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HANDOFF_SPOOL_DIR", str(tmp_path / "spool"))
    root = Path(__file__).resolve().parents[2]
    assert cli(["db", "seed", str(root / "demo" / "customers.yml")]) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text("customers:\n  - ref: C-9\n    gender: x\n")
    assert cli(["db", "seed", str(bad)]) == 1
    assert "unknown field 'gender'" in capsys.readouterr().err

    db = Database(url)
    req = HandoffRequest(kind="live_chat", reason="asked for a person", sender_id="s-1", transcript=[])
    with db.session() as s:
        HandoffRepository(s).add(req)
    assert cli(["handoff", "list", "--json"]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    assert [h["reference"] for h in listed] == [req.reference]
    assert cli(["handoff", "done", req.reference]) == 1
    assert "cannot go from open to done" in capsys.readouterr().err
    assert cli(["handoff", "claim", req.reference, "--by", "agent.ana"]) == 0
    assert cli(["handoff", "done", req.reference, "--no-resume"]) == 0
    assert cli(["handoff", "show", req.reference]) == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 2)[-1])
    assert shown["status"] == "done" and shown["assignee"] == "agent.ana"
    assert shown["closed_at"] and shown["persona_corrections"] == []

    assert cli(["handoff", "correct", req.reference, "--persona", "shopper", "--by", "agent.ana"]) == 1
    assert "unknown persona 'shopper'" in capsys.readouterr().err
    assert cli(["handoff", "correct", "LC-NOPE00", "--persona", "technical", "--by", "agent.ana"]) == 1
    assert "LC-NOPE00" in capsys.readouterr().err
    note = "quotes error codes, wants the API details"
    assert (
        cli(
            [
                "handoff",
                "correct",
                req.reference,
                "--persona",
                "technical",
                "--by",
                "agent.ana",
                "--note",
                note,
            ]
        )
        == 0
    )
    assert "to technical by agent.ana" in capsys.readouterr().out
    assert cli(["handoff", "show", req.reference]) == 0
    [correction] = json.loads(capsys.readouterr().out)["persona_corrections"]
    assert (correction["corrected_persona"], correction["by"], correction["note"]) == (
        "technical",
        "agent.ana",
        note,
    )
    assert cli(["db", "prepare"]) == 0
    db.dispose()


def test_cli_transfer_note_and_a_correction_to_the_same_persona(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store.db import Database
    from bot.store.repository import HandoffRepository
    from bot.store.staff import StaffRepository

    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        staff = StaffRepository(s)
        for name in ("agent.ana", "agent.bo", "agent.cy"):
            staff.add_user(name, password_hash="x", role="agent", timezone="Europe/London")
        staff.add_user("sup.sam", password_hash="x", role="supervisor", timezone="Europe/London")
        staff.disable("agent.cy")
    req = HandoffRequest(
        kind="live_chat", reason="asked for a person", sender_id="s-1", transcript=[], persona="default"
    )
    with db.session() as s:
        HandoffRepository(s).add(req)

    transfer = ["handoff", "transfer", req.reference, "--by", "agent.ana"]
    assert cli([*transfer, "--to", "agent.bo"]) == 1
    assert "only a claimed handoff can change hands" in capsys.readouterr().err
    assert cli(["handoff", "claim", req.reference, "--by", "agent.ana"]) == 0
    assert cli([*transfer, "--to", "agent.cy"]) == 1, "a disabled account takes nothing"
    assert "no active staff user 'agent.cy'" in capsys.readouterr().err
    assert cli([*transfer, "--to", "nobody"]) == 1
    assert cli([*transfer, "--to", "agent.bo"]) == 0
    assert "from agent.ana to agent.bo" in capsys.readouterr().out
    assert cli([*transfer, "--to", "agent.ana"]) == 1, "agent.ana has given it away"
    assert "claimed by 'agent.bo': only they or a supervisor" in capsys.readouterr().err
    back = ["handoff", "transfer", req.reference, "--to", "agent.ana", "--by", "sup.sam"]
    assert cli(back) == 0, "a supervisor may"
    assert cli(["handoff", "transfer", req.reference, "--to", "agent.bo", "--by", "agent.ana"]) == 0

    assert cli(["handoff", "note", req.reference, "rang the branch about the card", "--by", "agent.bo"]) == 0
    assert cli(["handoff", "note", req.reference, "   ", "--by", "agent.bo"]) == 1
    assert cli(["handoff", "note", "LC-NOPE00", "hello", "--by", "agent.bo"]) == 1

    same = ["handoff", "correct", req.reference, "--persona", "default", "--by", "agent.bo"]
    assert cli(same) == 1
    assert "has persona 'default' already" in capsys.readouterr().err
    with db.session() as s:
        row = HandoffRepository(s).get(req.reference)
        assert row.assignee == "agent.bo" and HandoffRepository(s).corrections(row) == []
        staff = StaffRepository(s)
        assert [(n.author, n.text) for n in staff.notes(row)] == [
            ("agent.bo", "rang the branch about the card")
        ]
        audit = [
            (e.actor, e.action, e.detail) for e in reversed(staff.audit_page(target=req.reference).entries)
        ]
    assert audit == [
        ("cli", "handoff.transfer", {"by": "agent.ana", "from": "agent.ana", "to": "agent.bo"}),
        ("cli", "handoff.transfer", {"by": "sup.sam", "from": "agent.bo", "to": "agent.ana"}),
        ("cli", "handoff.transfer", {"by": "agent.ana", "from": "agent.ana", "to": "agent.bo"}),
        ("cli", "handoff.note", {"by": "agent.bo"}),
    ]
    db.dispose()


def test_prepare_refuses_a_bad_service_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    bank = tmp_path / "bank.yml"
    bank.write_text((root / "bank.yml").read_text().replace('mon: "08:00-20:00"', 'mon: "20:00-08:00"'))
    monkeypatch.setenv("BANK_CONFIG", str(bank))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bank.db'}")
    assert cli(["db", "prepare"]) == 1
    err = capsys.readouterr().err
    assert str(bank) in err and "hours.mon" in err and "closes before it opens" in err


def test_resume_reports_an_unreachable_rasa_clearly() -> None:
    with pytest.raises(RasaApiError, match="cannot reach Rasa"):
        resume_conversation("s-1", rasa_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(RasaApiError, match="must be http"):
        resume_conversation("s-1", rasa_url="file:///etc/passwd")


def test_run_time_choices_become_numbered_options_on_sms(renderer: Renderer) -> None:
    choices = [
        {"title": "Today 14:00–16:00", "payload": "Today 14:00–16:00"},
        {"title": "Tomorrow", "payload": "x"},
    ]
    ctx = RenderContext(persona="phone_first", language="en", fmt="sms", choices=choices)
    message = renderer.render("utter_ask_callback_window", ctx)
    assert message is not None
    assert "1. Today 14:00–16:00" in message["text"] and "2. Tomorrow" in message["text"]
    web = renderer.render(
        "utter_ask_callback_window", RenderContext(language="es", fmt="socketio", choices=choices)
    )
    assert web is not None and [b["title"] for b in web["buttons"]] == ["Today 14:00–16:00", "Tomorrow"]


def test_a_profile_read_back_keeps_what_is_valid_and_drops_the_rest() -> None:
    profile = Profile.from_mapping(
        {
            "age": 81,
            "preferred_language": "ES",
            "contact_history": {"phone": 3, "fax": 2, "chat": -1},
            "accessibility_needs": ["hearing", "telepathy"],
            "name": "  Ana ",
            "timezone": "Mars/Base",
            "consent_to_calls": "yes",
        }
    )
    assert profile == Profile(
        preferred_language="es", contact_history={"phone": 3}, accessibility_needs=("hearing",), name="Ana"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"contact_history": {"fax": 1}}, "contact_history: unknown channel 'fax'"),
        ({"contact_history": {"phone": True}}, "contact_history.phone"),
        ({"accessibility_needs": ["telepathy"]}, "unknown need 'telepathy'"),
        ({"preferred_channel": "pigeon"}, "unknown channel 'pigeon'"),
        ({"preferred_language": "english"}, "preferred_language"),
        ({"name": " "}, "name"),
    ],
)
def test_a_profile_from_a_file_names_the_bad_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        Profile.from_mapping(data, strict=True)
