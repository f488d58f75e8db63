"""The persona catalogue's schema (pydantic models, validated on load).

See ``docs/personas.md`` for the meaning of every field.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, TypeAlias, Union

from pydantic import BaseModel, Field, StrictBool, StrictStr, conint, root_validator, validator

from bot.core.channels import CONTACT_CHANNELS, INPUT_CHANNELS

SUPPORTED_VERSIONS = (1,)
ACCESSIBILITY_NEEDS = ("hearing", "speech", "vision", "cognitive")
# Signals the cue extractor computes from the text's shape; lexicon signals may add phrases.
COMPUTED_SIGNALS = frozenset(
    {"emoji", "no_capitals", "brevity", "keyword_style", "frustration", "technical", "casual", "formal"}
)
# Signals the decision logic reads by name; the catalogue must define their lexicons.
REQUIRED_SIGNALS = frozenset(
    {"casual", "formal", "urgency", "technical", "phone_request", "human_request", "channel_aversion"}
    | {"call_refusal", "hearing_need", "frustration"}
)


def _number(*, gt: float | None = None, ge: float | None = None, le: float | None = None) -> type:
    """A float field type that accepts YAML ints and floats (not bools or strings) within bounds."""

    class _Number(float):
        @classmethod
        def __get_validators__(cls) -> Iterator[Callable[[Any], float]]:
            yield cls.check

        @classmethod
        def check(cls, value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"must be a number, got {value!r}")
            number = float(value)
            if gt is not None and not number > gt:
                raise ValueError(f"must be greater than {gt}, got {number}")
            if ge is not None and not number >= ge:
                raise ValueError(f"must be at least {ge}, got {number}")
            if le is not None and not number <= le:
                raise ValueError(f"must be at most {le}, got {number}")
            return number

    return _Number


if TYPE_CHECKING:
    Number: TypeAlias = float
    Weight: TypeAlias = float
    Ratio: TypeAlias = float
    PositiveNumber: TypeAlias = float
    Count: TypeAlias = int
else:
    Number = _number(ge=0)
    Weight = _number(gt=0, le=10)
    Ratio = _number(ge=0, le=1)
    PositiveNumber = _number(gt=0, le=1)
    Count = conint(strict=True, ge=1)


class Formality(str, Enum):
    formal = "formal"
    neutral = "neutral"
    casual = "casual"


class Verbosity(str, Enum):
    brief = "brief"
    standard = "standard"
    detailed = "detailed"


class Empathy(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class Escalation(str, Enum):
    """When the assistant offers a phone call to this persona."""

    proactive = "proactive"
    on_failure = "on_failure"
    on_request = "on_request"
    never = "never"


class _Strict(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = False


class Phrase(_Strict):
    text: StrictStr = Field(..., min_length=1)
    weight: Weight = 1.0


PhraseSpec = Union[StrictStr, Phrase]
# A spaCy Matcher pattern: a list of token dicts ({"LOWER": "call"}, {"OP": "?"}, …).
TokenPattern = List[Dict[StrictStr, Any]]


class Pattern(_Strict):
    pattern: TokenPattern = Field(..., min_items=1)
    weight: Weight = 1.0


PatternSpec = Union[Pattern, TokenPattern]


class Lexicon(_Strict):
    """Phrases and token patterns per language code."""

    phrases: Dict[StrictStr, List[PhraseSpec]] = Field(default_factory=dict)
    patterns: Dict[StrictStr, List[PatternSpec]] = Field(default_factory=dict)

    def phrase_items(self, language: str) -> list[Phrase]:
        return [p if isinstance(p, Phrase) else Phrase(text=p) for p in self.phrases.get(language, [])]

    def pattern_items(self, language: str) -> list[Pattern]:
        return [p if isinstance(p, Pattern) else Pattern(pattern=p) for p in self.patterns.get(language, [])]

    def languages(self) -> set[str]:
        return set(self.phrases) | set(self.patterns)


class Scope(str, Enum):
    """What cancels a signal's hit (``bot.persona.cues.scope``)."""

    negation = "negation"
    past = "past"
    quoted = "quoted"
    # Followed by the name of a language: "I'd rather speak Spanish" chooses the language,
    # not the phone.
    language = "language"
    # In a question about it: "how quickly does a card arrive?" asks how fast, it does not
    # hurry anyone.
    asked = "asked"


class Match(str, Enum):
    """How a signal's phrases are compared with the text (``bot.persona.cues.normalise``)."""

    lemma = "lemma"  # lemmas, accents folded, synonyms: "telephone me" = "call me"
    form = "form"  # the word form, accents folded: "quisiera" is not "quiero"


class Signal(Lexicon):
    description: StrictStr = ""
    match: Match = Match.lemma
    # Hits that are negated, report the past or are quoted do not count.
    scope: List[Scope] = Field(default_factory=list)
    # A negated hit counts for this signal instead ("no need to call me": a refusal).
    negated_as: Union[StrictStr, None] = None
    # A signal the rules found that the cue classifier may not add this one beside ("buenas
    # tardes" is formal: the classifier's "casual" for "Hola, buenas tardes" does not count).
    opposite: Union[StrictStr, None] = None
    # The cue classifier learns it from the cue corpus (false: the rules alone find it).
    learned: StrictBool = True


class Tone(_Strict):
    formality: Formality
    verbosity: Verbosity
    empathy: Empathy
    emoji: StrictBool


class Channels(_Strict):
    preferred: List[StrictStr] = Field(..., min_items=1)
    averse: List[StrictStr] = Field(default_factory=list)

    @validator("preferred", "averse", each_item=True)
    def _known_channel(cls, value: str) -> str:
        if value not in CONTACT_CHANNELS:
            raise ValueError(f"unknown channel {value!r}; use one of {', '.join(CONTACT_CHANNELS)}")
        return value

    @root_validator(skip_on_failure=True)
    def _disjoint(cls, values: dict[str, Any]) -> dict[str, Any]:
        both = set(values.get("preferred", [])) & set(values.get("averse", []))
        if both:
            raise ValueError(f"channels {sorted(both)} are both preferred and averse")
        return values


class PersonaCues(Lexicon):
    """Weights on signals, plus phrases and patterns specific to this persona."""

    signals: Dict[StrictStr, Weight] = Field(default_factory=dict)


class ProfileSignals(_Strict):
    """Which profile fields raise this persona, and by how much."""

    preferred_channel: Dict[StrictStr, Weight] = Field(default_factory=dict)
    contact_history_share: Dict[StrictStr, Weight] = Field(default_factory=dict)
    accessibility_needs: Dict[StrictStr, Weight] = Field(default_factory=dict)
    channel: Dict[StrictStr, Weight] = Field(default_factory=dict)

    @validator("preferred_channel", "contact_history_share", "accessibility_needs", "channel")
    def _known_keys(cls, value: dict[str, float], field: Any) -> dict[str, float]:
        allowed, what = _PROFILE_SIGNAL_KEYS[field.name]
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"unknown {what} {unknown}; use {', '.join(allowed)}")
        return value


_PROFILE_SIGNAL_KEYS = {
    "preferred_channel": (CONTACT_CHANNELS, "contact channel(s)"),
    "contact_history_share": (CONTACT_CHANNELS, "contact channel(s)"),
    "accessibility_needs": (ACCESSIBILITY_NEEDS, "accessibility need(s)"),
    "channel": (INPUT_CHANNELS, "input channel(s)"),
}


class Persona(_Strict):
    id: StrictStr = Field(..., regex=r"^[a-z][a-z0-9_]*$")
    name: StrictStr = Field(..., min_length=1)
    description: StrictStr = Field(..., min_length=1)
    goals: List[StrictStr] = Field(default_factory=list)
    challenges: List[StrictStr] = Field(default_factory=list)
    tone: Tone
    channels: Channels
    escalation: Escalation
    cues: PersonaCues = Field(default_factory=PersonaCues)
    profile_signals: ProfileSignals = Field(default_factory=ProfileSignals)


class Thresholds(_Strict):
    min_score: Number = 1.4
    switch_margin: Number = 0.8
    proactive_offer_confidence: Ratio = 0.5
    failures_before_offer: Count = 2
    frustrated_messages_before_offer: Count = 2


class LanguageSettings(_Strict):
    min_words: Count = 3
    min_confidence: Ratio = 0.6
    markers: Dict[StrictStr, List[StrictStr]] = Field(default_factory=dict)


class LanguageMatching(_Strict):
    """How one language's words are normalised and read in context (``bot.persona.cues``)."""

    # Words that mean the same here; the first is the form matched (after lemmatising).
    synonyms: List[List[StrictStr]] = Field(default_factory=list)
    # Corrections and additions to spaCy's lemma table (form -> lemma).
    lemmas: Dict[StrictStr, StrictStr] = Field(default_factory=dict)
    negators: List[StrictStr] = Field(default_factory=list)
    # Negators that follow what they negate ("m'appelle pas").
    negators_after: List[StrictStr] = Field(default_factory=list)
    # Word forms that make a clause a report of the past ("was", "yesterday").
    past: List[StrictStr] = Field(default_factory=list)
    # Words after which a past form is a passive, not a report ("to be called back").
    not_past_after: List[StrictStr] = Field(default_factory=list)
    # Words that start a new clause ("but", "because").
    clause_breaks: List[StrictStr] = Field(default_factory=list)
    # Names of languages in this language ("Spanish", "español"), for ``Scope.language``.
    language_names: List[StrictStr] = Field(default_factory=list)
    # Words that ask a question ("how", "cómo", "comment"), for ``Scope.asked``.
    question_words: List[StrictStr] = Field(default_factory=list)

    @validator("synonyms", each_item=True)
    def _group(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("a synonym set needs at least two words")
        return value


class CatalogueSettings(_Strict):
    languages: List[StrictStr] = Field(..., min_items=1)
    default_language: StrictStr
    fallback_persona: StrictStr
    thresholds: Thresholds = Field(default_factory=Thresholds)
    recency_decay: PositiveNumber = 0.75
    min_contacts_for_history: Count = 3
    language: LanguageSettings = Field(default_factory=LanguageSettings)
    matching: Dict[StrictStr, LanguageMatching] = Field(default_factory=dict)


class PersonaCatalogue(_Strict):
    version: int
    settings: CatalogueSettings
    signals: Dict[StrictStr, Signal]
    personas: List[Persona] = Field(..., min_items=1)

    @validator("version", pre=True)
    def _version(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in SUPPORTED_VERSIONS:
            raise ValueError(f"unsupported version {value}; this release reads {SUPPORTED_VERSIONS}")
        return value

    def persona(self, persona_id: str) -> Persona:
        for persona in self.personas:
            if persona.id == persona_id:
                return persona
        raise KeyError(persona_id)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.personas]

    def signal_names(self) -> set[str]:
        return set(self.signals) | set(COMPUTED_SIGNALS)

    @property
    def learned_signals(self) -> list[str]:
        """The signals the cue classifier learns (``Signal.learned``), sorted."""
        return sorted(name for name, signal in self.signals.items() if signal.learned)

    @property
    def fallback(self) -> Persona:
        return self.persona(self.settings.fallback_persona)

    def lookup(self, persona_id: str | None) -> Persona | None:
        if persona_id is None:
            return None
        try:
            return self.persona(persona_id)
        except KeyError:
            return None
