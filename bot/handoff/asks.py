"""A request for a call or a person asked together with a question, in one message.

"When will my new card arrive? Can someone call me about it" asks two things: the answer
about the card, and a call. ``find_side_clauses`` finds the clause that asks for the call
or the person — a clause holding the words the cue extractor matched for ``phone_request``
or ``human_request`` — and asides about the customer ("I'm not very good with
computers."), when the rest of the message still says something (at least
``min_rest_words`` words). The NLU component ``bot.rasa.asks.RequestClauseRemover`` then
hides those clauses from the intent classifier, so the question is answered first, and the
routing decision hands over after the answer (``Situation.with_question``).

A clause that negates the request ("no need to call me") or reports what happened ("you
called me yesterday") is not a request; a message whose rest gives the reason for the
request ("I'm not comfortable with this chat, can you call me?") is the request alone. A
message that is only a request is left whole: the classifier reads it as
``request_phone_call`` or ``request_human``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.handoff.routing import Request
from bot.persona.cues.normalise import fold

# Parse-data key of the request found beside a question (``SideClauses.to_dict``).
ALSO_REQUESTED_KEY = "also_requested"
# Where a clause ends: sentence punctuation, commas, line breaks, and before the words
# that start a new request or statement ("please call me", "and my card…").
_BOUNDARY = re.compile(
    r"[.?!;:,\n¿¡]+|\s(?=(?:please|pls|plz|por favor|porfa|s'il vous plaît|s'il vous plait|svp|stp"
    r"|and|but|also|then|y|pero|también|et|mais|aussi)\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
# Words that turn a clause into something other than a request now: a negation or a
# report of the past, in the supported languages (lower case, compared word by word).
_NOT_A_REQUEST = frozenset(
    {
        "no", "not", "dont", "don't", "never", "nobody", "without", "didnt", "didn't", "wasnt",
        "yesterday", "called", "rang", "phoned",
        "nunca", "sin", "ayer", "llamaron", "llamasteis",
        "pas", "jamais", "sans", "hier", "appelé", "appelée", "déjà", "ne", "n",
    }
)  # fmt: skip
# Signals whose matched words mark a request clause, and what they ask for.
REQUEST_SIGNALS: tuple[tuple[str, Request], ...] = (
    ("phone_request", Request.phone_call),
    ("human_request", Request.person),
)
# Signals that give the reason for the request ("I'm not comfortable with this chat, can
# you call me?"): a message whose rest shows one is about the request itself, not a question.
REASON_SIGNALS = ("channel_aversion",)
# Signals whose clause, when it says nothing else, is an aside about the customer, not the
# topic: "I'm not very good with computers. How do I top up?". Frustration and urgency are
# not among them: "toujours pas reçue" (still not received) is half the question.
ASIDE_SIGNALS = ("channel_aversion",)
# Signals whose whole sentence is about the customer, not the topic, when another sentence
# says what they want: "I'm deaf and can't use the phone. I lost my card yesterday." (the
# phone in it made the question read as a lost phone), "No need to ring me, chatting here
# is fine. How do I get a new card?". In a sentence of its own the question is kept whole:
# "please don't call me, just tell me how to reset my PIN".
SENTENCE_ASIDE_SIGNALS = ("hearing_need", "call_refusal")
_SENTENCE_END = re.compile(r"[.?!;\n]+")
# Words an aside may hold beside its cue words and one more word ("I'm … computers").
_FUNCTION_WORDS = frozenset(
    {
        "i", "i'm", "im", "m", "me", "my", "it", "its", "it's", "this", "that", "is", "am", "are",
        "so", "really", "very", "just", "with", "at", "the", "a", "an", "to", "be", "all", "and",
        "these", "those", "such", "estos", "estas", "esos", "esas", "ces", "tous", "todos",
        "yo", "soy", "estoy", "es", "esto", "muy", "con", "la", "el", "las", "los", "un", "una",
        "je", "suis", "c'est", "c", "est", "ce", "ça", "très", "avec", "le", "les", "une",
    }
)  # fmt: skip
DEFAULT_MIN_REST_WORDS = 3


@dataclass(frozen=True)
class SideClauses:
    """The parts of a message that are not its question: a request for a call or a person,
    and asides about the customer.

    Attributes:
        request: ``phone_call`` or ``person`` when a clause asks for one, else None.
        spans: character ranges ``[start, end)`` of the side clauses in the text.
        words: the request clause(s) as written, for the logs and the handoff.
    """

    request: Request | None
    spans: tuple[tuple[int, int], ...]
    words: str = ""

    def covers(self, start: int) -> bool:
        """The character at ``start`` lies in a side clause."""
        return any(begin <= start < end for begin, end in self.spans)

    def to_dict(self) -> dict[str, object]:
        """What the parse data keeps (``ALSO_REQUESTED_KEY``) when there is a request."""
        return {"request": self.request.value if self.request else None, "words": self.words}


def _spans(text: str, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    """Character ranges of ``text`` between the matches of ``boundary``, with a word in them."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in boundary.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if _WORD.search(text[s:e])]


def clauses(text: str) -> list[tuple[int, int]]:
    """Character ranges of the clauses of ``text`` (without the separators)."""
    return _spans(text, _BOUNDARY)


def sentences(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences of ``text`` (without their end punctuation)."""
    return _spans(text, _SENTENCE_END)


def _words(clause: str) -> set[str]:
    clause = clause.replace("’", "'").casefold()
    return set(_WORD.findall(clause)) | set(re.findall(r"[\w']+", clause))


def _asks(clause: str) -> bool:
    return not (_words(clause) & _NOT_A_REQUEST)


def _holding(
    text: str, parts: list[tuple[int, int]], phrases: Sequence[str]
) -> list[tuple[tuple[int, int], str]]:
    """(clause, phrase) for each clause of ``parts`` that holds one of ``phrases``."""
    lowered = text.casefold()
    found: list[tuple[tuple[int, int], str]] = []
    for phrase in phrases:
        needle = phrase.casefold()
        at = lowered.find(needle)
        while at >= 0:
            found += [((b, e), needle) for b, e in parts if b <= at < e]
            at = lowered.find(needle, at + 1)
    return found


def _is_aside(clause: str, cue_words: Sequence[str]) -> bool:
    rest = clause.casefold()
    for phrase in cue_words:
        rest = rest.replace(phrase, " ")
    content = [w for w in re.findall(r"[\w']+", rest) if w not in _FUNCTION_WORDS]
    return len(content) <= 1


def requested_in(text: str, evidence: Mapping[str, Sequence[str]]) -> Request | None:
    """What the message asks for by its words alone — a call or a person, in a clause that
    is neither negated nor a report — for messages the classifier could not place."""
    parts = clauses(text) or [(0, len(text))]
    for signal, kind in REQUEST_SIGNALS:
        if any(_asks(text[b:e]) for (b, e), _ in _holding(text, parts, evidence.get(signal, ()))):
            return kind
    return None


def find_side_clauses(
    text: str,
    evidence: Mapping[str, Sequence[str]],
    *,
    min_rest_words: int = DEFAULT_MIN_REST_WORDS,
) -> SideClauses | None:
    """The clauses of ``text`` that ask for a call or a person, or are asides about the
    customer, when the rest of the message — its question — still has at least
    ``min_rest_words`` words; None otherwise.

    ``evidence`` is ``MessageCues.evidence``: signal name -> the words that raised it.
    """
    parts = clauses(text)
    if len(parts) < 2:
        return None
    request: Request | None = None
    asking: list[tuple[int, int]] = []
    for signal, kind in REQUEST_SIGNALS:
        asking = [
            span
            for span, _ in _holding(text, parts, evidence.get(signal, ()))
            if _asks(text[span[0] : span[1]])
        ]
        if asking:
            request = kind
            break
    by_clause: dict[tuple[int, int], list[str]] = {}
    for signal in ASIDE_SIGNALS:
        for span, phrase in _holding(text, parts, evidence.get(signal, ())):
            by_clause.setdefault(span, []).append(phrase)
    asides = [
        span
        for span, phrases in by_clause.items()
        if span not in asking and _is_aside(text[span[0] : span[1]], phrases)
    ]
    about_the_customer = [
        sentence
        for sentence, _ in _holding(
            text, sentences(text), [p for sig in SENTENCE_ASIDE_SIGNALS for p in evidence.get(sig, ())]
        )
    ]
    for begin, end in about_the_customer:
        asides += [(b, e) for b, e in parts if begin <= b < end and (b, e) not in asking]
    side = sorted(set(asking) | set(asides))
    rest = [span for span in parts if span not in side]
    if not side or sum(len(_WORD.findall(text[b:e])) for b, e in rest) < min_rest_words:
        return None
    if request is not None:
        reasons = [p.casefold() for signal in REASON_SIGNALS for p in evidence.get(signal, ())]
        if any(reason in text[b:e].casefold() for reason in reasons for b, e in rest):
            return None  # the rest is why they want the call: the request alone
    words = " … ".join(text[b:e].strip() for b, e in sorted(set(asking)))
    return SideClauses(request, tuple(side), words)


# Answers that say the customer does not know (their number, a time), in the supported
# languages; compared after lower-casing, without accents and punctuation.
_DONT_KNOW = re.compile(
    r"\b(?:(?:do\s*not|don't|dont)\s+know|dunno|no idea|not sure|idk|cant remember|can't remember"
    r"|no lo se|no se|ni idea|no me acuerdo|no lo recuerdo|no estoy seguro|no estoy segura"
    r"|je ne sais pas|je sais pas|jsp|chais pas|aucune idee|je ne m'en souviens pas|pas sur|pas sure)\b",
    re.IGNORECASE,
)


def says_dont_know(text: str) -> bool:
    """The answer says "I don't know" ("dunno", "no lo sé", "je sais pas") and holds no digits
    (a number typed after "not sure, maybe…" is still read as a number)."""
    plain = fold(text)
    return bool(_DONT_KNOW.search(plain)) and not any(c.isdigit() for c in plain)
