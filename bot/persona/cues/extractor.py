"""Per-message cue extraction with spaCy blank pipelines and the catalogue's lexicons.

One ``CueExtractor`` is built per catalogue (spaCy tokenizers, ``PhraseMatcher`` and
``Matcher`` per supported language, and the language identifier) and then extracts the
cues of one message in well under a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language as SpacyLanguage
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from bot.persona.catalogue.model import Lexicon, PersonaCatalogue
from bot.persona.cues.language import LanguageIdentifier
from bot.persona.cues.model import MessageCues

MAX_EVIDENCE_PER_SIGNAL = 3
__all__ = ["CueExtractor", "MessageCues"]
# Letters in a row that make a run of capitals count as shouting.
MIN_SHOUT_LETTERS = 6
SHOUT_RATIO = 0.7
CURRENCY_CODES = frozenset({"GBP", "EUR", "USD", "CHF", "JPY", "CAD", "AUD", "PLN", "SEK", "NOK", "DKK"})

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2764]"
    r"|(?<!\w)(?:[:;=]-?[)(DPp]|<3|xD|XD|:'\()(?!\w)"
)
_REPEATED_LETTERS = re.compile(r"([a-zA-Z])\1{2,}")
_MISSING_APOSTROPHE = re.compile(
    r"(?<!\w)(?:dont|cant|wont|im|ive|isnt|didnt|doesnt|wasnt|whats|thats)(?!\w)"
)
_LOWER_I = re.compile(r"(?<!\w)i(?=\s)")
_TECH_PATTERNS = [
    re.compile(
        r"(?i)(?<!\w)(?:error|err|code|código|erreur|status|http)\s*[:#]?\s*[a-z]{0,4}[-_]?\d{2,}(?!\w)"
    ),
    re.compile(r"(?i)(?<!\w)\d{3}\s?(?:error|erreur|errors)(?!\w)"),
    re.compile(r"(?<!\w)[A-Z]{1,5}[-_]?\d{2,6}(?!\w)"),
    re.compile(r"(?i)(?<!\w)(?:v|version|versión|ver\.?)\s?\d+(?:\.\d+)+(?!\w)"),
    re.compile(r"(?<!\w)\d+\.\d+\.\d+(?!\w)"),
    re.compile(r"(?i)(?<!\w)(?:ios|android|windows|macos)\s?\d+(?:\.\d+)*(?!\w)"),
    re.compile(r"(?i)(?<!\w)0x[0-9a-f]{4,}(?!\w)"),
    re.compile(r"(?<!\w)[A-Z0-9]{2,}_[A-Z0-9_]{2,}(?!\w)"),
]
# Every technical pattern needs a digit or an underscore: skip them all when there is none.
_TECH_HINT = re.compile(r"[\d_]")
_LETTER = re.compile(r"[^\W\d_]")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-Þ]")
TECH_PATTERN_WEIGHT = 0.7
# Strength a signal approaches however many hits it has.
SATURATION = 1.5
MIN_SHOUTED_WORD = 6


@dataclass
class _Acc:
    """Accumulates weighted hits per key with their evidence."""

    weight: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    evidence: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, key: str, weight: float, text: str) -> None:
        norm = text.lower()
        if (key, norm) in self.seen:
            return
        self.seen.add((key, norm))
        self.weight[key] += weight
        if len(self.evidence[key]) < MAX_EVIDENCE_PER_SIGNAL:
            self.evidence[key].append(text)


# spaCy's French tokenizer exceptions take ~6 s to import on a 2-core machine (a 360 KB
# list compiled into regexes), twice the plugin's whole loading budget. French text is
# therefore tokenized by spaCy's language-neutral tokenizer ("xx"), with spaCy's French
# stop words; phrases and patterns are tokenized by the same tokenizer, so they match.
_NEUTRAL_TOKENIZER_LANGUAGES = frozenset({"fr"})


def _stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for ``lang``, read without importing the language's tokenizer data."""
    import importlib.util

    path = Path(spacy.__file__).parent / "lang" / lang / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_bot_stop_words_{lang}", path)
    if spec is None or spec.loader is None:
        return frozenset()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(getattr(module, "STOP_WORDS", ()))


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    name: str
    weight: float
    text: str


class _LanguageMatchers:
    """Tokenizer, stop words, phrase matcher and token matcher for one language."""

    def __init__(self, lang: str) -> None:
        neutral = lang in _NEUTRAL_TOKENIZER_LANGUAGES
        self.nlp: SpacyLanguage = spacy.blank("xx" if neutral else lang)
        self.stop_words = _stop_words(lang) if neutral else frozenset(self.nlp.Defaults.stop_words)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.patterns = Matcher(self.nlp.vocab)
        self.has_patterns = False
        self.labels: dict[int, tuple[str, str, float]] = {}

    def _label(self, kind: str, name: str, weight: float) -> str:
        key = f"{kind}|{name}|{weight:g}"
        self.labels[self.nlp.vocab.strings.add(key)] = (kind, name, weight)
        return key

    def add(self, kind: str, name: str, lexicon: Lexicon, lang: str) -> None:
        by_weight: dict[float, list[Doc]] = defaultdict(list)
        for phrase in lexicon.phrase_items(lang):
            by_weight[float(phrase.weight)].append(self.nlp.make_doc(phrase.text))
        for weight, docs in by_weight.items():
            self.phrases.add(self._label(kind, name, weight), docs)
        for item in lexicon.pattern_items(lang):
            self.patterns.add(self._label(kind, name, float(item.weight)), [item.pattern])
            self.has_patterns = True

    def match(self, doc: Doc) -> list[_Hit]:
        matches = list(self.phrases(doc))
        if self.has_patterns:
            matches += self.patterns(doc)
        hits = []
        for match_id, start, end in matches:
            kind, name, weight = self.labels[match_id]
            span = doc[start:end]
            hits.append(_Hit(span.start_char, span.end_char, kind, name, weight, span.text))
        return hits


def _outermost(hits: list[_Hit]) -> list[_Hit]:
    """Drop hits inside a longer hit: "don't call me" is a refusal, not "call me"."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        inside = any(
            k.start <= hit.start and hit.end <= k.end and (k.end - k.start) > (hit.end - hit.start)
            for k in kept
        )
        if not inside:
            kept.append(hit)
    return kept


class CueExtractor:
    """Extracts ``MessageCues`` from a message's text.

    Reads: the catalogue's signals (phrases, patterns), persona cue phrases and patterns,
    language settings. Writes: ``MessageCues``.
    A message whose language is clear is matched with that language's lexicons; a short
    or ambiguous one with every supported language's, so "thx" or "porfa" still count.
    """

    def __init__(self, catalogue: PersonaCatalogue) -> None:
        self.catalogue = catalogue
        st = catalogue.settings
        self.languages = list(st.languages)
        self.identifier = LanguageIdentifier(
            self.languages,
            min_words=st.language.min_words,
            min_confidence=st.language.min_confidence,
            markers=st.language.markers,
        )
        self._matchers: dict[str, _LanguageMatchers] = {}
        for lang in self.languages:
            matchers = _LanguageMatchers(lang)
            for name, signal in catalogue.signals.items():
                matchers.add("s", name, signal, lang)
            for persona in catalogue.personas:
                matchers.add("p", persona.id, persona.cues, lang)
            self._matchers[lang] = matchers

    def extract(self, text: str | None) -> MessageCues:
        text = (text or "").strip()
        if not text or text.startswith("/"):
            # Empty text or a button payload ("/affirm"): it says nothing about the writer.
            return MessageCues()
        rough_words = len(text.split())
        guess = self.identifier.identify(text, n_words=rough_words)
        primary = guess.language if guess.language in self._matchers else self.languages[0]
        langs = [primary] if guess.clear else [primary, *(lang for lang in self.languages if lang != primary)]
        hits: list[_Hit] = []
        doc: Doc | None = None
        for lang in langs:
            lang_doc = self._matchers[lang].nlp.make_doc(text)
            doc = doc if doc is not None else lang_doc
            hits += self._matchers[lang].match(lang_doc)
        assert doc is not None
        signals, personas = _Acc(), _Acc()
        for hit in _outermost(hits):
            (signals if hit.kind == "s" else personas).add(hit.name, hit.weight, hit.text)
        words = [t for t in doc if t.is_alpha or t.like_num]
        _shape_signals(text, words, self._matchers[primary].stop_words, signals)
        strengths = {k: _saturate(w) for k, w in signals.weight.items() if w > 0}
        return MessageCues(
            n_words=len(words),
            language=guess.language,
            language_confidence=guess.confidence,
            language_clear=guess.clear and len(words) >= self.identifier.min_words,
            language_marker=guess.marker,
            signals=strengths,
            evidence={k: v for k, v in signals.evidence.items() if k in strengths},
            persona_hits={k: min(2.0, w) for k, w in personas.weight.items() if w > 0},
            persona_evidence=dict(personas.evidence),
        )


def _saturate(weight: float) -> float:
    """Signal strength from summed hit weights: one full hit ~0.95, more approach 1.5."""
    return SATURATION * (1.0 - math.exp(-weight / SATURATION * 1.5))


def _shape_signals(text: str, words: list[Any], stop_words: frozenset[str], acc: _Acc) -> None:
    """Signals computed from the text's shape rather than its words."""
    n_words = len(words)
    letters = len(_LETTER.findall(text))
    upper = len(_UPPER.findall(text))

    if emoji := _EMOJI.findall(text):
        acc.add("emoji", 1.0, "".join(emoji[:3]))
    if n_words >= 3 and letters and upper == 0:
        acc.add("no_capitals", 1.0, "(no capital letters)")
    if 0 < n_words <= 3:
        acc.add("brevity", 1.0, f"(only {n_words} word{'s' if n_words > 1 else ''})")
    elif n_words <= 6:
        acc.add("brevity", 0.5, f"(only {n_words} words)")
    content = [t for t in words if t.is_alpha and t.lower_ not in stop_words]
    if 2 <= n_words <= 7 and len(content) >= n_words - 1 and not text.rstrip().endswith("?"):
        acc.add("keyword_style", 1.0, "(keywords: " + " ".join(t.text for t in words) + ")")

    # Casual register from spelling.
    lowered = text.lower()
    if _REPEATED_LETTERS.search(text):
        acc.add("casual", 0.4, _REPEATED_LETTERS.search(text).group(0))  # type: ignore[union-attr]
    if m := _MISSING_APOSTROPHE.search(lowered):
        acc.add("casual", 0.4, m.group(0))
    if _LOWER_I.search(text) and upper == 0:
        acc.add("casual", 0.3, "(lower-case 'i')")

    # Formal register from complete, punctuated sentences.
    if n_words >= 8 and text[:1].isupper() and text.rstrip()[-1:] in ".?" and "casual" not in acc.weight:
        acc.add("formal", 0.3, "(complete, punctuated sentences)")

    # Frustration from shouting and repeated punctuation.
    if letters >= MIN_SHOUT_LETTERS and upper / letters >= SHOUT_RATIO:
        acc.add("frustration", 0.6, "(writes in capitals)")
    elif shouted := [w for w in text.split() if len(w) >= MIN_SHOUTED_WORD and w.isalpha() and w.isupper()]:
        acc.add("frustration", 0.4, shouted[0])
    if "!!" in text or "??" in text or "?!" in text or "!?" in text:
        acc.add("frustration", 0.5, "!!" if "!!" in text else "??")

    # Technical content: error codes, versions, identifiers.
    if _TECH_HINT.search(text):
        for rx in _TECH_PATTERNS:
            for m in rx.finditer(text):
                token = m.group(0)
                if token.upper().rstrip("0123456789-_ ") in CURRENCY_CODES:
                    continue
                acc.add("technical", TECH_PATTERN_WEIGHT, token)
