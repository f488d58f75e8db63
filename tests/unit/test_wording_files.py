"""The wording catalogue read from one file per language and from topic files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.persona.catalogue import PersonaCatalogue
from bot.wording import WordingError, load_wording


def write(path: Path, lang: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version: 1\nlanguage: {lang}\nmessages:\n{body}", encoding="utf-8")


def test_topic_files_add_responses_to_their_language(tmp_path: Path, catalogue: PersonaCatalogue) -> None:
    write(tmp_path / "en.yml", "en", '  utter_a:\n    default: "A"\n')
    write(tmp_path / "en" / "cards.yml", "en", '  utter_b:\n    default: "B"\n    brief: "b"\n')
    write(tmp_path / "es" / "cards.yml", "es", '  utter_b:\n    default: "Be"\n')
    wording = load_wording(tmp_path, personas=catalogue)
    assert {"utter_a", "utter_b"} <= wording.responses()
    selected = wording.select("utter_b", persona=None, language="es")
    assert selected is not None and selected.variant.texts == ("Be",)


def test_a_response_worded_twice_in_one_language_is_refused(
    tmp_path: Path, catalogue: PersonaCatalogue
) -> None:
    write(tmp_path / "fr.yml", "fr", '  utter_a:\n    default: "A"\n')
    write(tmp_path / "fr" / "more.yml", "fr", '  utter_a:\n    default: "encore"\n')
    with pytest.raises(WordingError, match="already worded in"):
        load_wording(tmp_path, personas=catalogue)


def test_a_topic_file_of_another_language_is_refused(tmp_path: Path, catalogue: PersonaCatalogue) -> None:
    write(tmp_path / "es" / "cards.yml", "fr", '  utter_a:\n    default: "A"\n')
    with pytest.raises(WordingError, match="language: es"):
        load_wording(tmp_path, personas=catalogue)


def test_drift_between_variants_and_languages_and_blanks_are_reported(
    tmp_path: Path, catalogue: PersonaCatalogue
) -> None:
    from bot.wording.catalogue import check_consistency

    write(tmp_path / "en.yml", "en", '  utter_a:\n    default: "Call {phone_main}."\n    brief: "Call {phone_cards}."\n'
          '  utter_b:\n    default: "Open [payment] in the app; see [our site](https://x.example)."\n')  # fmt: skip
    write(tmp_path / "es.yml", "es", '  utter_a:\n    default: "Llame al {phone_main} ({hours})."\n')
    problems = check_consistency(load_wording(tmp_path, personas=catalogue))
    assert "en: utter_a.brief: uses ['phone_cards'], which its default does not" in problems
    assert any(p.startswith("utter_a: the defaults use different placeholders") for p in problems)
    assert "en: utter_b.default: bracketed text '[payment]'" in problems
    assert not any("our site" in p for p in problems), "a markdown link is not a blank"


def test_the_shipped_wording_has_no_drift(renderer: object) -> None:
    from bot.wording import Renderer
    from bot.wording.catalogue import check_consistency

    assert isinstance(renderer, Renderer)
    assert check_consistency(renderer.wording) == []
