"""The wording catalogue: every response by language and tone/persona, with a fallback order.

Files ``data/wording/<lang>.yml`` and, by topic, ``data/wording/<lang>/<topic>.yml``
(each response in one file per language)::

    version: 1
    language: es
    messages:
      utter_greet:
        default: "Hola, …"          # neutral wording in this language
        casual: "…"                 # tone variants: casual | formal (formality),
        formal: "…"                 #                brief | detailed (verbosity)
        brief: "…"
        personas:                   # optional, per persona id
          time_pressed: "…"
      utter_anything_else:
        default: {text: "…", buttons: [{title: "Sí", payload: "/affirm"}]}
      ack_frustration:
        default: ["…", "…"]         # a list: alternatives

The English defaults of ``utter_*`` responses are the domain's responses (``domain.yml``).

``data/wording/allows.yml`` says, for any language, what may come before a response: the
phone line (``phone_line``) and a frustration acknowledgement (``acknowledgement``); both
are allowed unless a response says otherwise::

    version: 1
    allows:
      utter_goodbye: {phone_line: false, acknowledgement: false}

Fallback order for a response, persona and language (first that exists wins):
persona variant → tone variant (formality, then verbosity) → default of that language →
the same chain in the default language (ending at the domain's response).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.persona.catalogue.model import Persona, PersonaCatalogue

DEFAULT_KEY = "default"
TONE_KEYS = ("casual", "formal", "brief", "detailed")
SPECIAL_MESSAGES = ("ack_frustration", "phone_line", "notice_card_data")
ALLOWS_FILE = "allows.yml"


class WordingError(ValueError):
    """A wording file is malformed; the message names the file, response and variant."""


@dataclass(frozen=True)
class Variant:
    """One wording: alternative texts (one is chosen) and optional buttons."""

    texts: tuple[str, ...]
    buttons: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Allows:
    """What may come before a response."""

    phone_line: bool = True
    acknowledgement: bool = True


ALLOW_ALL = Allows()


@dataclass(frozen=True)
class Selection:
    variant: Variant
    language: str
    key: str  # "personas.<id>", a tone key or "default"


@dataclass
class WordingCatalogue:
    """Variants by language → response → key."""

    default_language: str
    languages: list[str]
    variants: dict[str, dict[str, dict[str, Variant]]] = field(default_factory=dict)
    allowed: dict[str, Allows] = field(default_factory=dict)

    def allows(self, response: str) -> Allows:
        """What may come before ``response`` (everything, unless ``allows.yml`` says otherwise)."""
        return self.allowed.get(response, ALLOW_ALL)

    def keys_for(self, persona: Persona | None) -> list[str]:
        """Variant keys to try for a persona, most specific first."""
        if persona is None:
            return [DEFAULT_KEY]
        keys = [f"personas.{persona.id}"]
        if persona.tone.formality.value != "neutral":
            keys.append(persona.tone.formality.value)
        if persona.tone.verbosity.value != "standard":
            keys.append(persona.tone.verbosity.value)
        keys.append(DEFAULT_KEY)
        return keys

    def select(self, response: str, *, persona: Persona | None, language: str | None) -> Selection | None:
        """The variant for ``response`` by the documented fallback order, or None if unknown."""
        keys = self.keys_for(persona)
        languages = [language] if language in self.languages else []
        if self.default_language not in languages:
            languages.append(self.default_language)
        for lang in languages:
            entry = self.variants.get(lang, {}).get(response)
            if not entry:
                continue
            for key in keys:
                if key in entry:
                    return Selection(entry[key], lang, key)
        return None

    def responses(self) -> set[str]:
        return {name for by_response in self.variants.values() for name in by_response}


def _variant(value: Any, where: str) -> Variant:
    if isinstance(value, str):
        texts: list[Any] = [value]
        buttons: Any = []
    elif isinstance(value, list):
        texts, buttons = value, []
    elif isinstance(value, Mapping):
        text = value.get("text")
        texts = text if isinstance(text, list) else [text]
        buttons = value.get("buttons") or []
        unknown = set(value) - {"text", "buttons"}
        if unknown:
            raise WordingError(f"{where}: unknown field(s) {sorted(unknown)}")
    else:
        raise WordingError(f"{where}: expected text, a list of texts or {{text, buttons}}, got {value!r}")
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise WordingError(f"{where}: every text must be a non-empty string")
    if not isinstance(buttons, list) or not all(
        isinstance(b, Mapping) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
        for b in buttons
    ):
        raise WordingError(f"{where}: buttons must be a list of {{title, payload}}")
    return Variant(
        tuple(t.strip() for t in texts),
        tuple({"title": b["title"], "payload": b["payload"]} for b in buttons),
    )


def _entry(raw: Any, where: str, persona_ids: Sequence[str]) -> dict[str, Variant]:
    if not isinstance(raw, Mapping):
        raise WordingError(f"{where}: expected a mapping of variants")
    out: dict[str, Variant] = {}
    for key, value in raw.items():
        if key == "personas":
            if not isinstance(value, Mapping):
                raise WordingError(f"{where}.personas: expected a mapping of persona id to wording")
            for pid, pvalue in value.items():
                if persona_ids and pid not in persona_ids:
                    raise WordingError(f"{where}.personas.{pid}: no persona with id {pid!r} in personas.yml")
                out[f"personas.{pid}"] = _variant(pvalue, f"{where}.personas.{pid}")
        elif key == DEFAULT_KEY or key in TONE_KEYS:
            out[key] = _variant(value, f"{where}.{key}")
        else:
            raise WordingError(
                f"{where}: unknown variant {key!r}; use default, {', '.join(TONE_KEYS)} or personas"
            )
    return out


def _language_files(directory: Path, lang: str) -> list[Path]:
    """``<lang>.yml`` and the topic files ``<lang>/*.yml`` of one language."""
    single = directory / f"{lang}.yml"
    return [*([single] if single.exists() else []), *sorted((directory / lang).glob("*.yml"))]


def _messages(path: Path, lang: str) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WordingError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping) or data.get("version") != 1 or data.get("language") != lang:
        raise WordingError(f"{path}: expected 'version: 1', 'language: {lang}' and 'messages'")
    messages = data.get("messages")
    if not isinstance(messages, Mapping):
        raise WordingError(f"{path}: 'messages' must be a mapping of response name to variants")
    return {str(name): raw for name, raw in messages.items()}


def load_wording(
    directory: Path,
    *,
    personas: PersonaCatalogue,
    domain_responses: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> WordingCatalogue:
    """Load ``<directory>/<lang>.yml`` and ``<directory>/<lang>/*.yml`` (topic files) for
    every supported language; a response is worded in one file per language.

    The domain's responses become the default-language ``default`` variants where the
    catalogue has none.
    """
    st = personas.settings
    catalogue = WordingCatalogue(default_language=st.default_language, languages=list(st.languages))
    for lang in st.languages:
        by_response: dict[str, dict[str, Variant]] = {}
        seen_in: dict[str, Path] = {}
        for path in _language_files(directory, lang):
            for name, raw in _messages(path, lang).items():
                if name in seen_in:
                    raise WordingError(f"{path}: {name}: already worded in {seen_in[name]}")
                seen_in[name] = path
                by_response[name] = _entry(raw, f"{path}: {name}", personas.ids)
        catalogue.variants[lang] = by_response
    defaults = catalogue.variants.setdefault(st.default_language, {})
    for name, variants in (domain_responses or {}).items():
        if variants and DEFAULT_KEY not in defaults.get(name, {}):
            first = variants[0]
            value: Any = {"text": first.get("text", ""), "buttons": first.get("buttons") or []}
            defaults.setdefault(name, {})[DEFAULT_KEY] = _variant(value, f"domain.yml: {name}")
    catalogue.allowed = _load_allows(directory / ALLOWS_FILE, known=catalogue.responses())
    return catalogue


def _load_allows(path: Path, *, known: set[str]) -> dict[str, Allows]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WordingError(f"{path}: not valid YAML: {exc}") from exc
    allows = data.get("allows") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or data.get("version") != 1 or not isinstance(allows, Mapping):
        raise WordingError(f"{path}: expected 'version: 1' and 'allows' (response name -> what it allows)")
    fields = set(Allows.__dataclass_fields__)
    allowed: dict[str, Allows] = {}
    for name, raw in allows.items():
        where = f"{path}: {name}"
        if name not in known:
            raise WordingError(f"{where}: no such response in the domain or the wording catalogue")
        if not isinstance(raw, Mapping) or not raw:
            raise WordingError(f"{where}: expected a mapping such as {{phone_line: false}}")
        unknown = set(raw) - fields
        if unknown:
            raise WordingError(f"{where}: unknown field(s) {sorted(unknown)}; use {sorted(fields)}")
        if not all(isinstance(v, bool) for v in raw.values()):
            raise WordingError(f"{where}: values must be true or false")
        allowed[str(name)] = Allows(**{str(k): bool(v) for k, v in raw.items()})
    return allowed


def check_completeness(
    catalogue: WordingCatalogue, *, responses: Iterable[str], personas: PersonaCatalogue
) -> tuple[list[str], list[str]]:
    """(errors, warnings) about missing wording.

    Errors: a response (or special message) without a default in some language — the
    answer would fall back to another language. Warnings: a tone variant that a persona in
    personas.yml would use is missing, so that persona gets the default wording instead.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for name in sorted(set(responses) | set(SPECIAL_MESSAGES)):
        for lang in catalogue.languages:
            entry = catalogue.variants.get(lang, {}).get(name, {})
            if DEFAULT_KEY not in entry:
                errors.append(f"{lang}: {name}: no default wording")
                continue
            if name == "phone_line":
                continue
            for persona in personas.personas:
                chain = catalogue.keys_for(persona)
                tones = [k for k in chain if k in TONE_KEYS]
                if tones and not any(k in entry for k in chain[:-1]):
                    missing = " or ".join(tones)
                    warnings.append(
                        f"{lang}: {name}: {persona.id} gets the default wording (no {missing} variant)"
                    )
    return errors, warnings


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Placeholders that name things rather than give facts: a variant may name the bank or the
# app where its default does not.
_NAMES = frozenset({"bank_name", "app_name", "customer_name", "name_suffix"})
# "[carte]" or "[payment]": reads as a blank nobody filled in. Markdown links "[text](url)" are fine.
_BRACKETED = re.compile(r"\[[^\]]*\](?!\()")


def check_consistency(catalogue: WordingCatalogue) -> list[str]:
    """Problems that would show a customer a wrong or unfinished answer (errors).

    - A variant uses a placeholder that gives a fact (a phone number, the hours, the
      website) that the response's default in that language does not: variants may leave
      facts out, never bring others.
    - The defaults of a response use different placeholders in different languages: one
      language would give another number or omit the hours.
    - A bracketed word such as ``[payment]`` in a text: it reads as an unfilled blank.
    """
    problems: list[str] = []
    names = sorted({name for by_response in catalogue.variants.values() for name in by_response})
    for name in names:
        defaults: dict[str, set[str]] = {}
        for lang in catalogue.languages:
            entry = catalogue.variants.get(lang, {}).get(name, {})
            for key, variant in entry.items():
                for text in variant.texts:
                    blank = _BRACKETED.search(text)
                    if blank:
                        problems.append(f"{lang}: {name}.{key}: bracketed text {blank.group(0)!r}")
            if DEFAULT_KEY not in entry:
                continue
            default = {p for text in entry[DEFAULT_KEY].texts for p in _PLACEHOLDER.findall(text)} - _NAMES
            defaults[lang] = default
            for key, variant in entry.items():
                used = {p for text in variant.texts for p in _PLACEHOLDER.findall(text)} - _NAMES
                extra = sorted(used - default)
                if extra and key != DEFAULT_KEY:
                    problems.append(f"{lang}: {name}.{key}: uses {extra}, which its default does not")
        if len({frozenset(v) for v in defaults.values()}) > 1:
            shown = "; ".join(f"{lang} {sorted(v)}" for lang, v in defaults.items())
            problems.append(f"{name}: the defaults use different placeholders ({shown})")
    return problems
