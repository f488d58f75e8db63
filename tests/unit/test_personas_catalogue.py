"""Loading and validating personas.yml: clear errors naming file, line, persona and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.settings import DEFAULT_PERSONAS_FILE, PROJECT_ROOT
from bot.persona.catalogue import CatalogueError, Escalation, PersonaCatalogue, parse_catalogue

FILE = Path("personas.yml")


def _errors(text: str) -> list[str]:
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(text, file=FILE)
    return [str(i) for i in err.value.issues]


def test_shipped_catalogue_has_the_fixed_personas(catalogue: PersonaCatalogue) -> None:
    assert catalogue.ids == ["quick_mobile", "phone_first", "time_pressed", "technical", "default"]
    assert catalogue.settings.languages == ["en", "es", "fr"]
    assert catalogue.persona("phone_first").escalation is Escalation.proactive
    assert catalogue.persona("time_pressed").escalation is Escalation.on_failure
    assert catalogue.persona("quick_mobile").escalation is Escalation.on_request
    assert catalogue.persona("technical").escalation is Escalation.on_request
    assert catalogue.fallback.id == "default"


def test_every_lexicon_signal_has_phrases_in_every_language(catalogue: PersonaCatalogue) -> None:
    for name, signal in catalogue.signals.items():
        for lang in catalogue.settings.languages:
            assert signal.phrase_items(lang), f"signal {name} has no {lang} phrases"


def test_bad_enum_names_file_line_persona_and_field(shipped: str) -> None:
    errors = _errors(shipped.replace("formality: casual", "formality: chilled", 1))
    assert len(errors) == 1
    message = errors[0]
    line = shipped.splitlines().index(
        next(x for x in shipped.splitlines() if "formality: casual" in x)
    ) + 1  # fmt: skip
    assert message.startswith(f"personas.yml:{line}: persona 'quick_mobile', field 'tone.formality'")
    assert "'formal', 'neutral', 'casual'" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("escalation: on_failure", "escalation: sometimes", "persona 'time_pressed', field 'escalation'"),
        (
            "signals: {technical: 2.4}",
            "signals: {technical: lots}",
            "field 'cues.signals.technical': must be a number",
        ),
        ("signals: {technical: 2.4}", "signals: {sparkle: 1}", "unknown signal 'sparkle'"),
        (
            "    opposite: formal",
            "    opposite: stiff",
            "field 'signals.casual.opposite': unknown signal 'stiff'",
        ),
        ("fallback_persona: default", "fallback_persona: nobody", "field 'settings.fallback_persona'"),
        ("default_language: en", "default_language: de", "'de' is not in settings.languages"),
        ("version: 1", "version: 7", "unsupported version 7"),
        ("  - id: technical", "  - id: quick_mobile", "duplicate persona id 'quick_mobile'"),
        ("preferred: [phone, branch]", "preferred: [phone, pigeon]", "unknown channel 'pigeon'"),
        ("averse: [phone, branch]", "averse: [phone, app]", "both preferred and averse"),
    ],
)
def test_invalid_fields_are_reported(shipped: str, old: str, new: str, expected: str) -> None:
    assert old in shipped
    errors = _errors(shipped.replace(old, new, 1))
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("personas.yml:") for e in errors)


def test_invalid_spacy_pattern_is_reported_with_its_place(shipped: str) -> None:
    text = shipped.replace("[{LOWER: {IN: [can, could, will]}}, {LOWER: u}]", "[{LOWERCASE: can}]", 1)
    errors = _errors(text)
    assert any("field 'signals.casual.patterns.en.0': invalid spaCy pattern" in e for e in errors), errors


def test_several_problems_are_reported_together(shipped: str) -> None:
    text = shipped.replace("formality: casual", "formality: chilled", 1).replace(
        "escalation: on_failure", "escalation: sometimes", 1
    )
    assert len(_errors(text)) == 2


def test_not_yaml_and_wrong_top_level() -> None:
    assert "not valid YAML" in _errors("personas: [unclosed")[0]
    assert "must be a mapping" in _errors("- just a list")[0]


@pytest.mark.parametrize(
    ("old", "new", "attribute"),
    [
        ("      accessibility_needs: {vision: 1.0, cognitive: 1.0}", "      age: {over_70: 2.0}", "'age'"),
        ("signals: {technical: 2.4}", "signals: {technical: 2.4, gender: 1}", "'gender'"),
        (
            "preferred_channel: {email: 0.5}",
            "preferred_channel: {email: 0.5}\n      nationality: {fr: 1}",
            "'nationality'",
        ),
    ],
)
def test_demographic_profile_signals_and_cues_are_rejected(
    shipped: str, old: str, new: str, attribute: str
) -> None:
    assert old in shipped
    errors = _errors(shipped.replace(old, new, 1))
    assert any(f"demographic attribute {attribute}" in e and "no stereotyping" in e for e in errors), errors


@pytest.mark.parametrize(
    "phrase", ['"at my age"', '"I am retired"', '"soy jubilado"', '"une personne âgée"', '"as a woman"']
)
def test_demographic_cue_phrases_are_rejected(shipped: str, phrase: str) -> None:
    text = shipped.replace('"sign language",', f'"sign language", {phrase},', 1)
    errors = _errors(text)
    assert any("demographic word" in e and "hearing_need" in e for e in errors), errors


def test_demographic_token_pattern_is_rejected(shipped: str) -> None:
    text = shipped.replace(
        "[{LOWER: {IN: [can, could, will]}}, {LOWER: u}]", '[{LOWER: {IN: ["elderly", "senior"]}}]', 1
    )
    assert any("demographic word" in e for e in _errors(text))


def test_check_command_reports_and_fails(shipped: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(shipped.replace("formality: casual", "formality: chilled", 1))
    cmd = [sys.executable, "-m", "bot", "personas", "check"]
    ok = subprocess.run([*cmd, str(DEFAULT_PERSONAS_FILE)], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    failed = subprocess.run([*cmd, str(bad)], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert failed.returncode == 1
    assert f"{bad}:" in failed.stderr and "persona 'quick_mobile', field 'tone.formality'" in failed.stderr
