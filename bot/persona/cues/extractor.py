"""Per-message cue extraction with spaCy blank pipelines and the catalogue's lexicons.

One ``CueExtractor`` is built per catalogue (spaCy tokenizers, ``PhraseMatcher`` and
``Matcher`` per supported language, and the language identifier) and then extracts the
cues of one message in well under a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import spacy
from spacy import attrs
from spacy.language import Language as SpacyLanguage
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import StringStore
from spacy.tokens import Doc
from spacy.util import compile_prefix_regex

from bot.core.settings import PROJECT_ROOT
from bot.persona.catalogue.model import LanguageMatching, Lexicon, Match, PersonaCatalogue, Scope, Signal
from bot.persona.cues.classifier import DEFAULT_MODEL_DIR, CueClassifier
from bot.persona.cues.language import LanguageIdentifier
from bot.persona.cues.model import MessageCues
from bot.persona.cues.normalise import MAX_CACHED_NORMS, LemmaCache, Normaliser, fold
from bot.persona.cues.scope import ScopeReader, ScopeWords

# The cue classifier's opinion counts from this probability on, for cues the rules did not
# already find (summed hit weight below ``CLASSIFIER_ADDS_BELOW``).
CLASSIFIER_MIN_PROBABILITY = 0.9
CLASSIFIER_ADDS_BELOW = 0.5
# Compact lemma tables for the catalogue's words, built once (``normalise.LemmaCache``).
DEFAULT_LEMMA_CACHE = PROJECT_ROOT / "models" / "cues"

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
# Runs of two or more "!" and "?".
_REPEATED_MARKS = re.compile(r"[!?]{2,}")
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
# Numbers anyone banking may type — IBANs, sort codes, account and card numbers, phone
# numbers, amounts, dates and times — are content, not technical style: masked before the
# technical patterns run.
_BANKING_NUMBERS = re.compile(
    r"(?i)(?<![\w-])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?(?![\w-])"  # IBAN
    r"|(?<![\w-])\d{2}[- ]\d{2}[- ]\d{2}(?![\w-])"  # sort code
    r"|(?<![\w.])\+?\d[\d ]{5,}\d(?![\w.])"  # account, card and phone numbers
    r"|[£€$]\s?\d+(?:[.,]\d+)?|(?<!\w)\d+(?:[.,]\d+)?\s?(?:[£€$]|gbp|eur|usd|euros?|pounds?)(?!\w)"  # amounts
    r"|(?<!\w)\d{1,2}[:h]\d{2}(?!\w)|(?<!\w)\d{1,4}[/-]\d{1,2}[/-]\d{1,4}(?!\w)"  # times, dates
)
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


# Lexical attributes the matching, scope and shape signals read (and patterns may use).
_LEX_ATTRS_READ = frozenset(
    {
        attrs.LOWER, attrs.NORM, attrs.IS_ALPHA, attrs.IS_DIGIT, attrs.IS_PUNCT, attrs.IS_SPACE,
        attrs.LIKE_NUM, attrs.IS_UPPER, attrs.IS_LOWER, attrs.IS_TITLE, attrs.IS_ASCII,
    }
)  # fmt: skip
# French elisions split off by the tokenizer ("m'appelez" → "m'" "appelez").
_ELISION_PREFIX = r"(?i)(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]"


def _lexicon_words(nlp: SpacyLanguage, lexicon: Lexicon, lang: str) -> set[str]:
    """Folded word forms a lexicon uses (phrase tokens and pattern strings)."""
    words = {fold(t.norm_) for p in lexicon.phrase_items(lang) for t in nlp.make_doc(p.text)}
    for item in lexicon.pattern_items(lang):
        for spec in item.pattern:
            for key in ("LOWER", "NORM"):
                value = spec.get(key)
                values = value.get("IN", []) if isinstance(value, dict) else [value]
                words.update(fold(v) for v in values if isinstance(v, str))
    return words


# Token attributes a pattern's words are checked on before the pattern runs (``_needs``),
# in the order of the columns of the array ``_LanguageMatchers.match`` reads.
_CHECKED_ATTRS = ("NORM", "LOWER", "ORTH")
_CHECKED_ARRAY = [getattr(attrs, key) for key in _CHECKED_ATTRS]
# Quantifiers under which a pattern token must be there (spaCy: none means exactly one).
_PRESENT_OPS = frozenset({"1", "+"})


def _needs(pattern: list[dict[str, Any]], strings: StringStore) -> tuple[tuple[int, frozenset[int]], ...]:
    """What a message must have for ``pattern`` to match: for each token the pattern needs
    (not optional), the column of the token attribute (``_CHECKED_ATTRS``) and the string
    ids of its possible values, where the pattern names them (``NORM``/``LOWER``/``ORTH``,
    a word or ``IN`` a list). A message without one of them cannot match, and the pattern
    is not run: spaCy's ``Matcher`` tests ``IN`` lists in Python at every token, ~60 us a
    message for all the patterns, while most messages have none of the words of most
    patterns."""
    needs = []
    for spec in pattern:
        if str(spec.get("OP", "1")) not in _PRESENT_OPS:
            continue
        for column, key in enumerate(_CHECKED_ATTRS):
            value = spec.get(key)
            if isinstance(value, str):
                words = [value]
            elif isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
                words = [v for v in value["IN"] if isinstance(v, str)]
            else:
                continue
            needs.append((column, frozenset(strings.add(w) for w in words)))
    return tuple(needs)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    name: str
    weight: float
    text: str
    token_start: int = 0
    token_end: int = 0


class _LanguageMatchers:
    """Tokenizer, norms, stop words, phrase matcher and token matcher for one language.

    Phrases and patterns are matched on token norms (``bot.persona.cues.normalise``):
    a pattern's ``LOWER`` or ``NORM`` values are normalised like the text, so they name
    lemmas, not every inflection.
    """

    def __init__(self, lang: str, scope: ScopeWords) -> None:
        neutral = lang in _NEUTRAL_TOKENIZER_LANGUAGES
        self.nlp: SpacyLanguage = spacy.blank("xx" if neutral else lang)
        # Lexical attributes nothing here reads (shape, prefix, suffix, URL, e-mail…) are not
        # computed for every new word: that halves tokenizing text with unseen words.
        getters = self.nlp.vocab.lex_attr_getters
        self.nlp.vocab.lex_attr_getters = {k: v for k, v in getters.items() if k in _LEX_ATTRS_READ}
        if lang == "fr":
            prefixes = [*self.nlp.Defaults.prefixes, _ELISION_PREFIX]
            self.nlp.tokenizer.prefix_search = compile_prefix_regex(prefixes).search
        self._normaliser = Normaliser(lang, {})
        # (text id, tokenizer norm id) -> (folded form id, norm), for ``make_doc``.
        self._forms: dict[tuple[int, int], tuple[int, str]] = {}
        self.scope = scope
        self.stop_words = _stop_words(lang) if neutral else frozenset(self.nlp.Defaults.stop_words)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="NORM")
        # Signals matched on the word form: the folded form is kept in the lemma slot.
        self.form_phrases = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        # One matcher per token pattern, run only when the message has the words it needs.
        self.patterns: list[tuple[tuple[tuple[int, frozenset[int]], ...], Matcher]] = []
        self.labels: dict[int, tuple[str, str, float]] = {}

    def make_doc(self, text: str) -> Doc:
        """The tokens of ``text`` with their norms, and their folded forms as ``lemma_``."""
        doc = self.nlp.make_doc(text)
        known = self._forms
        for token in doc:
            # Keyed by the token's text and tokenizer norm (both string ids): "n't" is "not".
            key = (token.orth, token.norm)
            ids = known.get(key)
            if ids is None:
                strings = self.nlp.vocab.strings
                ids = (strings.add(fold(token.text)), self.normaliser.norm(token.norm_))
                if len(known) < MAX_CACHED_NORMS:
                    known[key] = ids
            token.lemma, token.norm_ = ids
        return doc

    @property
    def normaliser(self) -> Normaliser:
        return self._normaliser

    @normaliser.setter
    def normaliser(self, normaliser: Normaliser) -> None:
        self._normaliser = normaliser
        self._forms.clear()  # norms made by the one before

    def _label(self, kind: str, name: str, weight: float) -> str:
        key = f"{kind}|{name}|{weight:g}"
        self.labels[self.nlp.vocab.strings.add(key)] = (kind, name, weight)
        return key

    def _normalised(self, pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pattern with its ``NORM`` values normalised (``LOWER`` stays the exact form)."""
        out = []
        for spec in pattern:
            spec = dict(spec)
            value = spec.get("NORM")
            if isinstance(value, str):
                spec["NORM"] = self.normaliser.norm(value)
            elif isinstance(value, dict):
                spec["NORM"] = {
                    op: [self.normaliser.norm(v) for v in vs] if isinstance(vs, list) else vs
                    for op, vs in value.items()
                }
            out.append(spec)
        return out

    def add(self, kind: str, name: str, lexicon: Lexicon, lang: str) -> None:
        by_weight: dict[float, list[Doc]] = defaultdict(list)
        for phrase in lexicon.phrase_items(lang):
            by_weight[float(phrase.weight)].append(self.make_doc(phrase.text))
        matcher = (
            self.form_phrases if isinstance(lexicon, Signal) and lexicon.match is Match.form else self.phrases
        )
        for weight, docs in by_weight.items():
            matcher.add(self._label(kind, name, weight), docs)
        for item in lexicon.pattern_items(lang):
            pattern = self._normalised(item.pattern)
            matcher = Matcher(self.nlp.vocab)
            matcher.add(self._label(kind, name, float(item.weight)), [pattern])
            self.patterns.append((_needs(pattern, self.nlp.vocab.strings), matcher))

    def match(self, doc: Doc) -> list[_Hit]:
        matches = list(self.phrases(doc)) + list(self.form_phrases(doc))
        columns = doc.to_array(_CHECKED_ARRAY).T.tolist()
        present: dict[int, set[int]] = {}
        for needs, matcher in self.patterns:
            for column, values in needs:
                found = present.get(column)
                if found is None:
                    found = present[column] = set(columns[column])
                if found.isdisjoint(values):
                    break
            else:
                matches += matcher(doc)
        matches.sort(key=lambda m: (m[1], m[2]))
        hits = []
        for match_id, start, end in matches:
            kind, name, weight = self.labels[match_id]
            span = doc[start:end]
            hits.append(_Hit(span.start_char, span.end_char, kind, name, weight, span.text, start, end))
        return hits


def _outermost(hits: list[_Hit], opposites: dict[str, str]) -> list[_Hit]:
    """Drop hits inside a longer hit of the signal that is their opposite ("don't call me"
    is a refusal, not "call me": ``negated_as``), and hits overlapping a longer one of the
    same signal ("could you call me back" is one request, not two)."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        covered = any(
            (k.name == hit.name and k.start < hit.end and hit.start < k.end)
            or (opposites.get(hit.name) == k.name and k.start <= hit.start and hit.end <= k.end)
            for k in kept
        )
        if not covered:
            kept.append(hit)
    return kept


class CueExtractor:
    """Extracts ``MessageCues`` from a message's text.

    Reads: the catalogue's signals (phrases, patterns), persona cue phrases and patterns,
    language settings. Writes: ``MessageCues``.
    A message whose language is clear is matched with that language's lexicons; a short
    or ambiguous one with every supported language's, so "thx" or "porfa" still count.
    """

    def __init__(
        self,
        catalogue: PersonaCatalogue,
        *,
        lemma_cache: Path | None = None,
        classifier_dir: Path | None = DEFAULT_MODEL_DIR,
    ) -> None:
        self.catalogue = catalogue
        st = catalogue.settings
        # The learned second opinion (None: rules only — tests of the rules, or not trained).
        self.classifier = CueClassifier.load(classifier_dir) if classifier_dir is not None else None
        self.languages = list(st.languages)
        self.scoped = {name: sig for name, sig in catalogue.signals.items() if sig.scope}
        self.opposites = {name: sig.negated_as for name, sig in catalogue.signals.items() if sig.negated_as}
        self.contrary = {name: sig.opposite for name, sig in catalogue.signals.items() if sig.opposite}
        self._matchers: dict[str, _LanguageMatchers] = {}
        lexicons: list[tuple[str, str, Lexicon]] = [("s", n, sig) for n, sig in catalogue.signals.items()]
        lexicons += [("p", p.id, p.cues) for p in catalogue.personas]
        words: dict[str, set[str]] = {}
        for lang in self.languages:
            rules = st.matching.get(lang) or LanguageMatching()
            scope = ScopeWords.build(
                negators=rules.negators,
                negators_after=rules.negators_after,
                past=rules.past,
                clause_breaks=rules.clause_breaks,
                not_past_after=rules.not_past_after,
                language_names=rules.language_names,
                question_words=rules.question_words,
            )
            self._matchers[lang] = _LanguageMatchers(lang, scope)
            nlp = self._matchers[lang].nlp
            words[lang] = {fold(w) for group in rules.synonyms for w in group} | {
                fold(w) for w in rules.lemmas
            }
            for _, _, lexicon in lexicons:
                words[lang] |= _lexicon_words(nlp, lexicon, lang)
        self.identifier = LanguageIdentifier(
            self.languages,
            min_words=st.language.min_words,
            min_confidence=st.language.min_confidence,
            markers=st.language.markers,
            function_words={lang: m.stop_words for lang, m in self._matchers.items()},
        )
        tables = LemmaCache(lemma_cache or DEFAULT_LEMMA_CACHE).tables(words)
        for lang, matchers in self._matchers.items():
            rules = st.matching.get(lang) or LanguageMatching()
            matchers.normaliser = Normaliser(lang, tables.get(lang, {}), rules.synonyms, rules.lemmas)
            for kind, name, lexicon in lexicons:
                matchers.add(kind, name, lexicon, lang)

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
        aside = _Acc()
        doc: Doc | None = None
        for lang in langs:
            matchers = self._matchers[lang]
            lang_doc = matchers.make_doc(text)
            doc = doc if doc is not None else lang_doc
            found = _outermost(matchers.match(lang_doc), self.opposites)
            hits += self._in_scope(found, lang_doc, matchers.scope, text, aside)
        assert doc is not None
        signals, personas = _Acc(), _Acc()
        for hit in _outermost(hits, self.opposites):
            (signals if hit.kind == "s" else personas).add(hit.name, hit.weight, hit.text)
        words = [t for t in doc if t.is_alpha or t.like_num]
        _shape_signals(text, words, self._matchers[primary].stop_words, signals)
        if self.classifier is not None:
            for cue, p in self.classifier.predict(text, primary).items():
                contrary = self.contrary.get(cue)
                if (
                    p >= CLASSIFIER_MIN_PROBABILITY
                    and signals.weight.get(cue, 0.0) < CLASSIFIER_ADDS_BELOW
                    and (contrary is None or signals.weight.get(contrary, 0.0) < CLASSIFIER_ADDS_BELOW)
                    # The rules read its words and set them aside (negated, past, quoted, …):
                    # "prefiero que nadie me llame" is no request, whatever "me llame" suggests.
                    and cue not in aside.weight
                ):
                    signals.add(cue, (p - 0.5) * 2, f"(cue classifier {math.floor(p * 100) / 100:.2f})")
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
            set_aside={k: v for k, v in aside.evidence.items() if k not in strengths},
        )

    def _in_scope(self, hits: list[_Hit], doc: Doc, words: ScopeWords, text: str, aside: _Acc) -> list[_Hit]:
        """The hits that say what the customer wants now (``bot.persona.cues.scope``); a
        negated hit of a signal with ``negated_as`` counts for that signal instead. Hits
        that do not count (negated, past, quoted, naming a language, asked about) are noted in
        ``aside``."""
        reader: ScopeReader | None = None
        kept = []
        for hit in hits:
            signal = self.scoped.get(hit.name) if hit.kind == "s" else None
            if signal is None:
                kept.append(hit)
                continue
            reader = reader or ScopeReader(doc, words, text)
            if Scope.quoted in signal.scope and reader.quoted(hit.start, hit.end):
                aside.add(hit.name, hit.weight, hit.text)
                continue
            if Scope.negation in signal.scope and reader.negated(hit.token_start, hit.token_end):
                aside.add(hit.name, hit.weight, hit.text)
                if signal.negated_as:
                    kept.append(replace(hit, name=signal.negated_as))
                continue
            if Scope.past in signal.scope and reader.past(hit.token_start, hit.token_end):
                aside.add(hit.name, hit.weight, hit.text)
                continue
            if Scope.language in signal.scope and reader.names_language(hit.token_end):
                aside.add(hit.name, hit.weight, hit.text)
                continue
            if Scope.asked in signal.scope and reader.asked(hit.token_start):
                aside.add(hit.name, hit.weight, hit.text)
                continue
            kept.append(hit)
        return kept


def _saturate(weight: float) -> float:
    """Signal strength from summed hit weights: one full hit ~0.95, more approach 1.5."""
    return SATURATION * (1.0 - math.exp(-weight / SATURATION * 1.5))


def _shape_signals(text: str, words: list[Any], stop_words: frozenset[str], acc: _Acc) -> None:
    """Signals computed from the text's shape rather than its words."""
    n_words = len(words)
    upper = len(_UPPER.findall(text))

    if emoji := _EMOJI.findall(text):
        acc.add("emoji", 1.0, "".join(emoji[:3]))
    if n_words >= 3 and upper == 0 and _LETTER.search(text):
        acc.add("no_capitals", 1.0, "(no capital letters)")
    if 0 < n_words <= 3:
        acc.add("brevity", 1.0, f"(only {n_words} word{'s' if n_words > 1 else ''})")
    elif n_words <= 6:
        acc.add("brevity", 0.5, f"(only {n_words} words)")
    if (
        2 <= n_words <= 7
        and sum(1 for t in words if t.is_alpha and t.lower_ not in stop_words) >= n_words - 1
        and not text.rstrip().endswith("?")
    ):
        acc.add("keyword_style", 1.0, "(keywords: " + " ".join(t.text for t in words) + ")")

    # Casual register from spelling.
    lowered = text.lower()
    if repeated := _REPEATED_LETTERS.search(text):
        acc.add("casual", 0.4, repeated.group(0))
    if m := _MISSING_APOSTROPHE.search(lowered):
        acc.add("casual", 0.4, m.group(0))
    if upper == 0 and _LOWER_I.search(text):
        acc.add("casual", 0.3, "(lower-case 'i')")

    # Formal register from complete, punctuated sentences.
    if n_words >= 8 and text[:1].isupper() and text.rstrip()[-1:] in ".?" and "casual" not in acc.weight:
        acc.add("formal", 0.3, "(complete, punctuated sentences)")

    # Frustration from shouting and repeated punctuation.
    # Letters are counted only when there are capitals enough to be shouting.
    letters = len(_LETTER.findall(text)) if upper >= SHOUT_RATIO * MIN_SHOUT_LETTERS else 0
    if letters >= MIN_SHOUT_LETTERS and upper / letters >= SHOUT_RATIO:
        acc.add("frustration", 0.6, "(writes in capitals)")
    elif shouted := [w for w in text.split() if len(w) >= MIN_SHOUTED_WORD and w.isalpha() and w.isupper()]:
        acc.add("frustration", 0.4, shouted[0])
    # "?!", or three or more marks in a row, read as exasperation; two ("thanks!!", "how
    # long does it take??") are as often delight or impatience: they add to other signs
    # of frustration, and do not show it alone.
    if runs := _REPEATED_MARKS.findall(text):
        strong = [run for run in runs if len(run) >= 3 or set(run) == {"?", "!"}]
        acc.add("frustration", 0.5 if strong else 0.3, (strong or runs)[0][:3])

    # Technical style: error codes, versions, identifiers (not the customer's bank details).
    if _TECH_HINT.search(text):
        masked = _BANKING_NUMBERS.sub(" ", text)
        for rx in _TECH_PATTERNS:
            for m in rx.finditer(masked):
                token = m.group(0)
                if token.upper().rstrip("0123456789-_ ") in CURRENCY_CODES:
                    continue
                acc.add("technical", TECH_PATTERN_WEIGHT, token)
