"""Scope: does a matched phrase say what the customer wants now?

"No need to ring me" is not a request to be rung, "I was on the phone with you for an
hour yesterday" reports an event, and 'the text said "call us now"' quotes someone else.
A hit is judged inside its clause (split at punctuation and at the catalogue's clause
words: "but", "and", "because", …):

- **negated**: a negator ("not", "no", "never", "n't", "sin", "ne", "inutile", …) within
  a few tokens before it (or, for languages that negate after the verb, just after);
- **past**: the clause reports something that happened ("was", "been", "yesterday",
  "ayer", "hier", …);
- **quoted**: it sits between quotation marks;
- **language**: a language is named right after it ("I'd rather speak Spanish",
  "prefiero hablar en español"): the customer chooses a language, not a channel;
- **asked**: a question word comes before it in its clause ("how quickly does a card
  arrive?", "¿cuál es la forma más rápida…?"): the customer asks about it.

Signals choose which of these cancel their hits (``scope`` in ``personas.yml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from spacy.tokens import Doc

from bot.persona.cues.normalise import fold

# Tokens before a hit in which a negator negates it ("I do not want you to call me").
NEGATION_WINDOW = 4
# Tokens after a hit in which a language's name says the hit is about the language
# ("speak Spanish", "speak in Spanish", "hablar en español").
LANGUAGE_WINDOW = 2
_QUOTED = re.compile(
    r'"[^"\n]{1,200}"|“[^”\n]{1,200}”|«[^»\n]{1,200}»|„[^“”\n]{1,200}[“”]'
    # Single quotes, straight or curly: an apostrophe inside a word ("I'd", "don’t") neither
    # opens nor closes a quotation.
    r"|(?<!\w)'(?=\S)(?:[^'\n]|(?<=\w)'(?=\w)){1,200}?(?<=\S)'(?!\w)"
    r"|‘(?:[^’\n]|(?<=\w)’(?=\w)){1,200}?’(?!\w)"
)
_QUOTE_MARKS = frozenset("\"“«„'‘")
_BREAK_PUNCT = frozenset(".,;:!?()[]…—–-/|")


@dataclass(frozen=True)
class ScopeWords:
    """One language's words that negate, name a language or ask (folded forms), or mark
    the past or end clauses (lower-case forms)."""

    negators: frozenset[str] = frozenset()
    negators_after: frozenset[str] = frozenset()
    past: frozenset[str] = frozenset()
    clause_breaks: frozenset[str] = frozenset()
    not_past_after: frozenset[str] = frozenset()
    language_names: frozenset[str] = frozenset()
    question_words: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        negators: list[str],
        negators_after: list[str],
        past: list[str],
        clause_breaks: list[str],
        not_past_after: Iterable[str] = (),
        language_names: Iterable[str] = (),
        question_words: Iterable[str] = (),
    ) -> ScopeWords:
        # Past forms and clause words are compared with accents: folded, "téléphoné" would
        # be "téléphone", and the questions "cómo" and "où" the conjunctions "como" and "ou".
        return cls(
            frozenset(fold(w) for w in negators),
            frozenset(fold(w) for w in negators_after),
            frozenset(w.lower() for w in past),
            frozenset(w.lower() for w in clause_breaks),
            frozenset(fold(w) for w in not_past_after),
            frozenset(fold(w) for w in language_names),
            frozenset(fold(w) for w in question_words),
        )


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of text between quotation marks."""
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text)]


class ScopeReader:
    """Answers scope questions about hits (token spans) in one document."""

    def __init__(self, doc: Doc, words: ScopeWords, text: str) -> None:
        self.doc = doc
        self.words = words
        self.quotes = quoted_spans(text) if not _QUOTE_MARKS.isdisjoint(text) else []
        # Clause number of every token: a new clause starts after punctuation or a clause word;
        # a hyphen inside a word ("est-ce", "appelez-moi") is no punctuation.
        clause = 0
        self.clause: list[int] = []
        attached = False  # the token before has no space after it
        for token in doc:
            inside_word = token.text == "-" and attached and not token.whitespace_
            attached = not token.whitespace_
            is_break = not inside_word and (
                token.text in _BREAK_PUNCT or token.is_punct or token.lower_ in words.clause_breaks
            )
            if is_break:
                clause += 1
            self.clause.append(clause)
            if is_break:
                clause += 1

    def _norms(self, i: int) -> tuple[str, str]:
        token = self.doc[i]
        return fold(token.text), token.norm_

    def negated(self, start: int, end: int) -> bool:
        here = self.clause[start]
        for i in range(max(0, start - NEGATION_WINDOW), start):
            if self.clause[i] == here and any(w in self.words.negators for w in self._norms(i)):
                return True
        for i in range(end, min(len(self.doc), end + 2)):
            if self.clause[i] == self.clause[end - 1] and any(
                w in self.words.negators_after for w in self._norms(i)
            ):
                return True
        return False

    def _past_form(self, i: int) -> bool:
        """Token ``i`` marks the past: a past form, not a passive ("to be called back")."""
        if self.doc[i].lower_ not in self.words.past:
            return False
        return not (i > 0 and fold(self.doc[i - 1].text) in self.words.not_past_after)

    def past(self, start: int, end: int) -> bool:
        here = self.clause[start]
        for i in range(len(self.doc)):
            if self.clause[i] != here or start <= i < end:
                continue
            if self._past_form(i):
                return True
        # The hit's own verb in a past form ("I rang", "I phoned you") reads as a report.
        return any(self._past_form(i) for i in range(start, end))

    def names_language(self, end: int) -> bool:
        """A language is named within ``LANGUAGE_WINDOW`` tokens after the hit, in its clause."""
        last = self.clause[end - 1]
        for i in range(end, min(len(self.doc), end + LANGUAGE_WINDOW)):
            if self.clause[i] != last:
                return False
            if fold(self.doc[i].text) in self.words.language_names:
                return True
        return False

    def asked(self, start: int) -> bool:
        """A question word comes before the hit in its clause."""
        here = self.clause[start]
        for i in range(start - 1, -1, -1):
            if self.clause[i] != here:
                return False
            if any(w in self.words.question_words for w in self._norms(i)):
                return True
        return False

    def quoted(self, start_char: int, end_char: int) -> bool:
        return any(a <= start_char and end_char <= b for a, b in self.quotes)
