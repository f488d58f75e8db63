"""The stereotype guard: personas may never be inferred from demographics.

Profile signals, signal names and cue phrases or patterns that refer to age, gender,
nationality, ethnicity, religion or similar attributes are rejected with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Attribute names (profile fields, signal names) that describe who someone is.
DEMOGRAPHIC_ATTRIBUTES = frozenset(
    {
        "age", "aged", "birth", "birthday", "birthdate", "dob", "born", "birth_year", "year_of_birth",
        "gender", "sex", "ethnicity", "ethnic", "race", "racial", "nationality", "citizenship",
        "country_of_birth", "religion", "religious", "marital_status", "generation", "pronouns",
        "sexual_orientation", "orientation", "caste", "disability_status",
    }
)  # fmt: skip

# Words in cue phrases that would infer a persona from demographics, per language.
DEMOGRAPHIC_WORDS = {
    "en": {
        "age", "aged", "old", "older", "elderly", "young", "younger", "youth", "teen", "teenager",
        "pensioner", "retired", "retiree", "senior", "seniors", "boomer", "boomers", "millennial",
        "millennials", "zoomer", "born", "woman", "women", "man", "men", "male", "female", "girl",
        "boy", "lady", "ladies", "gentleman", "foreign", "foreigner", "immigrant", "british",
        "english", "spanish", "french", "american", "african", "asian", "european", "christian",
        "muslim", "jewish", "hindu", "buddhist", "sikh", "gay", "lesbian",
    },
    "es": {
        "edad", "mayor", "mayores", "anciano", "anciana", "viejo", "vieja", "joven", "jóvenes",
        "jubilado", "jubilada", "pensionista", "nacido", "nacida", "mujer", "mujeres", "hombre",
        "hombres", "chica", "chico", "extranjero", "extranjera", "inmigrante",
        "español", "española", "francés", "francesa", "inglés", "inglesa", "cristiano", "musulmán",
        "judío", "hindú", "budista",
    },
    "fr": {
        "âge", "âgé", "âgée", "âgés", "vieux", "vieille", "jeune", "jeunes", "retraité", "retraitée",
        "senior", "né", "née", "femme", "femmes", "homme", "hommes", "fille", "garçon", "étranger",
        "étrangère", "immigré", "immigrée", "français", "française", "espagnol", "espagnole",
        "anglais", "anglaise", "chrétien", "musulman", "juif", "juive", "hindou", "bouddhiste",
    },
}  # fmt: skip

_ALL_DEMOGRAPHIC_WORDS = frozenset().union(*DEMOGRAPHIC_WORDS.values())
REASON = (
    "personas are inferred from behaviour, stated preferences and profile preferences, "
    "never from demographics (no stereotyping)"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def demographic_attribute(name: str) -> str | None:
    """The demographic attribute a field or signal name refers to, if any."""
    norm = _norm(name)
    if norm in DEMOGRAPHIC_ATTRIBUTES:
        return norm
    parts = set(norm.split("_"))
    hits = sorted(parts & DEMOGRAPHIC_ATTRIBUTES)
    return hits[0] if hits else None


def demographic_words(text: str, language: str | None = None) -> list[str]:
    """Words of ``text`` that name a demographic group or attribute (in any known language)."""
    # Every language's words count: phrases are often borrowed across languages.
    return [w for w in _WORD.findall(text.lower()) if w in _ALL_DEMOGRAPHIC_WORDS]


def _pattern_strings(pattern: Any) -> Iterator[str]:
    if isinstance(pattern, str):
        yield pattern
    elif isinstance(pattern, dict):
        for value in pattern.values():
            yield from _pattern_strings(value)
    elif isinstance(pattern, list):
        for item in pattern:
            yield from _pattern_strings(item)


def _pattern_keys(pattern: Any) -> Iterator[str]:
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            yield str(key)
            yield from _pattern_keys(value)
    elif isinstance(pattern, list):
        for item in pattern:
            yield from _pattern_keys(item)


def check_lexicon(lexicon: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield (path, message) for demographic phrases and patterns in a raw lexicon mapping."""
    if not isinstance(lexicon, dict):
        return
    for language, phrases in (lexicon.get("phrases") or {}).items():
        for i, phrase in enumerate(phrases or []):
            text = phrase.get("text") if isinstance(phrase, dict) else phrase
            if isinstance(text, str) and (words := demographic_words(text, str(language))):
                yield ("phrases", language, i), f"phrase {text!r} uses demographic word(s) {words}: {REASON}"
    for language, patterns in (lexicon.get("patterns") or {}).items():
        for i, pattern in enumerate(patterns or []):
            for key in _pattern_keys(pattern):
                if attr := demographic_attribute(key):
                    yield ("patterns", language, i), f"pattern uses demographic attribute {attr!r}: {REASON}"
            for value in _pattern_strings(pattern):
                if words := demographic_words(value, str(language)):
                    yield ("patterns", language, i), f"pattern uses demographic word(s) {words}: {REASON}"


def check_raw_catalogue(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    """All stereotype-guard violations in a raw (not yet validated) catalogue mapping."""
    issues: list[tuple[tuple[Any, ...], str]] = []
    if not isinstance(data, dict):
        return issues
    signals = data.get("signals")
    if isinstance(signals, dict):
        for name, signal in signals.items():
            if attr := demographic_attribute(str(name)):
                issues.append((("signals", name), f"signal uses demographic attribute {attr!r}: {REASON}"))
            issues.extend((("signals", name, *p), m) for p, m in check_lexicon(signal))
    personas = data.get("personas")
    for i, persona in enumerate(personas if isinstance(personas, list) else []):
        if not isinstance(persona, dict):
            continue
        profile = persona.get("profile_signals")
        if isinstance(profile, dict):
            for key, value in profile.items():
                if attr := demographic_attribute(str(key)):
                    msg = f"profile signal uses demographic attribute {attr!r}: {REASON}"
                    issues.append((("personas", i, "profile_signals", key), msg))
                for sub in value if isinstance(value, dict) else {}:
                    if attr := demographic_attribute(str(sub)):
                        msg = f"profile signal uses demographic attribute {attr!r}: {REASON}"
                        issues.append((("personas", i, "profile_signals", key, sub), msg))
        cues = persona.get("cues")
        if isinstance(cues, dict):
            for name in cues.get("signals") or {}:
                if attr := demographic_attribute(str(name)):
                    msg = f"cue uses demographic attribute {attr!r}: {REASON}"
                    issues.append((("personas", i, "cues", "signals", name), msg))
            issues.extend((("personas", i, "cues", *p), m) for p, m in check_lexicon(cues))
    return issues
