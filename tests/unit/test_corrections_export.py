"""Staff's persona corrections exported as labelled conversations, then evaluated."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import main
from bot.handoff.request import HandoffRequest
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import PersonaCatalogue
from bot.persona.corrections import NO_CUSTOMER_TURNS, NO_HANDOFF, UNKNOWN_PERSONA, export_corrections
from bot.persona.cues import CueExtractor
from bot.persona.evaluation import evaluate, load_conversations
from bot.store.db import Database
from bot.store.repository import HandoffRepository

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def transcript(*turns: tuple[str, str], channel: str = "socketio") -> list[dict[str, Any]]:
    return [
        {"at": (START + dt.timedelta(seconds=i)).isoformat(), "from": who, "text": text, "channel": channel}
        for i, (who, text) in enumerate(turns)
    ]


def handoff(repo: HandoffRepository, kind: str, entries: list[dict[str, Any]], **values: Any) -> str:
    extra: dict[str, Any] = {}
    if kind == "callback":
        extra = {
            "callback_number": "+34612345678",
            "window_start": START + dt.timedelta(days=1),
            "window_end": START + dt.timedelta(days=1, hours=2),
            "timezone": "Europe/Madrid",
        }
    row, _ = repo.add(
        HandoffRequest(
            kind=kind,
            reason="asked for a person",
            sender_id=f"s-{uuid.uuid4()}",
            transcript=entries,
            created_at=START,
            **extra,
            **values,
        )
    )
    return str(row.reference)


@pytest.fixture
def corrected(database: Database) -> dict[str, str]:
    """Handoffs staff corrected, of every kind the export meets; their references by name."""
    refs: dict[str, str] = {}
    with database.session() as session:
        repo = HandoffRepository(session)
        refs["quick"] = handoff(
            repo,
            "live_chat",
            transcript(
                ("customer", "hey"),
                ("assistant", "Hi! What can I help you with?"),
                ("customer", "my card still hasnt come 😩 its been like 2 wks"),
                ("customer", "can u check pls"),
            ),
            persona="default",
            language="en",
            channel="telegram",
        )
        refs["phone"] = handoff(
            repo,
            "callback",
            transcript(
                ("customer", "Buenas tardes, quisiera saber si ya han enviado mi nueva tarjeta."),
                ("assistant", "Suele llegar en 5 días hábiles."),
                ("customer", "Le agradecería que me llamaran, con el móvil me cuesta mucho escribir."),
                channel="twilio",
            ),
            persona="time_pressed",
            language="es",
            channel="twilio",
            customer_ref="C-1002",  # Lucía: prefers the phone, 6 past calls
        )
        refs["deaf"] = handoff(
            repo,
            "live_chat",
            transcript(("customer", "I'm deaf, please can someone help me here in the chat with my card")),
            persona="phone_first",
            language="en",
            channel="socketio",
            customer_ref="C-1005",  # Jordan: a hearing need
        )
        refs["silent"] = handoff(
            repo, "live_chat", transcript(("assistant", "Hello!")), persona="technical", language="en"
        )
        refs["retired"] = handoff(
            repo,
            "live_chat",
            transcript(("customer", "hello")),
            persona="default",
            language="de",
            channel="web",
        )
        by = "sam@bank"
        repo.correct_persona(staff_user=by, corrected_persona="quick_mobile", reference=refs["quick"])
        repo.correct_persona(staff_user=by, corrected_persona="default", reference=refs["phone"])
        repo.correct_persona(
            staff_user=by, corrected_persona="phone_first", reference=refs["phone"], note="asked"
        )
        repo.correct_persona(staff_user=by, corrected_persona="default", reference=refs["deaf"])
        repo.correct_persona(staff_user=by, corrected_persona="default", reference=refs["silent"])
        repo.correct_persona(staff_user=by, corrected_persona="pirate", reference=refs["retired"])
        repo.correct_persona(staff_user=by, corrected_persona="technical", sender_id="s-without-handoff")
    return refs


def test_export_labels_and_skips(
    database: Database, catalogue: PersonaCatalogue, corrected: dict[str, str]
) -> None:
    with database.session() as session:
        export = export_corrections(
            session, persona_ids=catalogue.ids, languages=catalogue.settings.languages
        )
    assert (export.corrections, export.replaced) == (7, 1)
    assert dict(export.skipped) == {NO_HANDOFF: 1, NO_CUSTOMER_TURNS: 1, UNKNOWN_PERSONA: 1}
    assert export.summary() == (
        "3 conversations from 7 persona corrections; 1 replaced by a later correction of the same handoff; "
        "skipped 3: 1 naming a persona not in the catalogue, 1 without a customer message, "
        "1 without a handoff (no transcript kept)"
    )
    by_id = {c["id"]: c for c in export.conversations}
    assert list(by_id) == [corrected["quick"], corrected["phone"], corrected["deaf"]]
    assert by_id[corrected["quick"]] == {
        "id": corrected["quick"],
        "channel": "telegram",
        "turns": ["hey", "my card still hasnt come 😩 its been like 2 wks", "can u check pls"],
        "expect": {"persona": "quick_mobile", "language": "en"},  # a live chat: the phone offer is not known
    }
    assert by_id[corrected["phone"]] == {
        "id": corrected["phone"],
        "channel": "twilio",
        "profile": {
            "preferred_language": "es",
            "preferred_channel": "phone",
            "contact_history": {"phone": 6},
        },
        "turns": [
            "Buenas tardes, quisiera saber si ya han enviado mi nueva tarjeta.",
            "Le agradecería que me llamaran, con el móvil me cuesta mucho escribir.",
        ],
        "expect": {"persona": "phone_first", "language": "es", "offer_phone": True},  # the latest correction
    }
    deaf = by_id[corrected["deaf"]]
    assert deaf["profile"]["accessibility_needs"] == ["hearing"]
    assert deaf["expect"] == {"persona": "default", "language": "en", "offer_phone": False}


def test_the_assigned_persona_and_the_name_stay_out_of_the_profile(
    database: Database, catalogue: PersonaCatalogue
) -> None:
    with database.session() as session:
        repo = HandoffRepository(session)
        ref = handoff(
            repo,
            "live_chat",
            transcript(("customer", "Getting HTTP 403 from the API since the last release")),
            persona="technical",
            language="en",
            channel="rest",
            customer_ref="C-1006",  # persona technical assigned; refuses calls
        )
        repo.correct_persona(staff_user="sam@bank", corrected_persona="time_pressed", reference=ref)
        export = export_corrections(
            session, persona_ids=catalogue.ids, languages=catalogue.settings.languages
        )
    (conversation,) = export.conversations
    assert conversation["profile"] == {
        "preferred_language": "en",
        "preferred_channel": "email",
        "contact_history": {"chat": 4, "email": 4},
        "consent_to_calls": False,
    }
    assert conversation["expect"] == {"persona": "time_pressed", "language": "en", "offer_phone": False}


def test_the_exported_file_is_evaluated(
    tmp_path: Path,
    database: Database,
    catalogue: PersonaCatalogue,
    extractor: CueExtractor,
    engine: PersonaEngine,
    corrected: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "corrections.yml"
    assert main(["personas", "export-corrections", str(path), "--database-url", database.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: 3 conversations from 7 persona corrections") and "skipped 3" in out
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["version"] == 1

    conversations = load_conversations(path, persona_ids=catalogue.ids)
    report = evaluate(conversations, extractor=extractor, engine=engine)
    metrics = report.metrics()
    assert metrics["n"] == 3
    predicted = {r.conversation.id: r.predicted for r in report.results}
    assert predicted[corrected["quick"]]["persona"] == "quick_mobile"
    assert predicted[corrected["phone"]] == {"persona": "phone_first", "language": "es", "offer_phone": True}
    assert predicted[corrected["deaf"]]["offer_phone"] is False
    assert metrics["offer_phone_counts"] == {"tp": 1, "fp": 0, "fn": 0}
    assert set(report.confusion()) == {"quick_mobile", "phone_first", "default"}


def test_nothing_to_export_is_an_error(
    tmp_path: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "corrections.yml"
    assert main(["personas", "export-corrections", str(path), "--database-url", database.url]) == 1
    assert "nothing to write" in capsys.readouterr().err
    assert not path.exists()
