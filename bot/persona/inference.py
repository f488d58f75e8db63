"""Conversation + profile + channel → persona estimate with confidence and evidence.

Scoring: every message adds, for each persona, the persona's signal weights times the
message's signal strengths (plus the persona's own phrase hits); older messages count
``recency_decay`` times less than the next newer one. The profile (preferred channel,
share of past contacts per channel, accessibility needs) and the current channel add
their weights once. The fallback persona scores at least ``min_score``, so a persona
must show enough to beat it. Confidence is the softmax share of the winner's score.
A previous persona is kept unless the new leader beats it by ``switch_margin``, so one
weak message does not flip the estimate. A persona assigned by staff or the CRM wins.

A customer who cannot use the phone — a hearing or speech need in the profile or said in
the conversation — is never made phone-first by wanting contact: their requests for a
call or a person do not count toward a persona whose first preferred channel is the
phone (asking to be contacted then means a person in writing). Finding chat hard still
counts; the phone-offer decision then routes them to the accessible alternative.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.persona.catalogue.model import PersonaCatalogue
from bot.persona.cues.model import MessageCues
from bot.persona.profile import Profile

MAX_EVIDENCE = 6
# Signals that say the customer wants contact (a call, a person).
CONTACT_SIGNALS = ("phone_request", "human_request")
# Messages with fewer words than this count proportionally less (1 word: half).
SHORT_MESSAGE_WORDS = 4


def below(value: float, limit: float, *, digits: int = 2) -> str:
    """``value`` for a reason saying it is below ``limit``: rounded down, so 0.498 against
    0.5 reads "0.49", never "0.50 < 0.5"."""
    step = 10**digits
    shown = math.floor(value * step) / step
    if shown >= limit:  # at the precision shown it would look equal: add a digit
        return below(value, limit, digits=digits + 1) if digits < 6 else f"{value}"
    return f"{shown:.{digits}f}"


@dataclass(frozen=True)
class Evidence:
    """One reason a person can read: what was seen, and what it pointed to."""

    persona: str
    weight: float
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PersonaEstimate:
    """The inferred persona.

    Attributes:
        persona: the persona id.
        confidence: its share of the evidence (0..1); 1.0 when assigned by staff/CRM.
        runner_up: the next most likely persona, if any.
        scores: persona id -> raw score.
        evidence: reasons for ``persona``, strongest first.
        assigned: the profile assigned the persona (staff or CRM).
    """

    persona: str
    confidence: float
    runner_up: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    assigned: bool = False

    def evidence_text(self) -> list[str]:
        return [str(e) for e in self.evidence]


def _label(signal: str) -> str:
    return signal.replace("_", " ")


def _describe(snippet: str, signal: str) -> str:
    if snippet.startswith("(") and snippet.endswith(")"):
        return f"{snippet[1:-1]} → {_label(signal)}"
    return f'wrote "{snippet}" → {_label(signal)}'


class PersonaInferrer:
    """Infers a persona from a conversation's cues, the profile and the channel.

    Reads: ``MessageCues`` of every customer message so far (oldest first), ``Profile``,
    the input channel and the previous estimate's persona. Writes: ``PersonaEstimate``.
    """

    def __init__(self, catalogue: PersonaCatalogue) -> None:
        self.catalogue = catalogue
        st = catalogue.settings
        self.fallback = st.fallback_persona
        self.min_score = float(st.thresholds.min_score)
        self.switch_margin = float(st.thresholds.switch_margin)
        self.decay = float(st.recency_decay)
        self.min_contacts = st.min_contacts_for_history
        self.ids = catalogue.ids
        self.weights = {p.id: {k: float(v) for k, v in p.cues.signals.items()} for p in catalogue.personas}
        # signal -> [(persona, weight)], so scoring touches only the signals a message shows.
        self.by_signal: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for pid, weights in self.weights.items():
            for signal, w in weights.items():
                if w:
                    self.by_signal[signal].append((pid, w))
        self.profile_signals = {p.id: p.profile_signals for p in catalogue.personas}
        # Personas that would put the customer on the phone first.
        self.phone_personas = frozenset(
            p.id for p in catalogue.personas if p.channels.preferred[0] == "phone"
        )
        # For customers who cannot use the phone: signal -> personas it must not raise.
        self.no_phone_skip = dict.fromkeys(CONTACT_SIGNALS, self.phone_personas)

    def _factors(self, messages: Sequence[MessageCues]) -> list[float]:
        """Per-message weights: recent messages weigh more; one- or two-word ones less."""
        n = len(messages)
        return [
            self.decay ** (n - 1 - i) * min(1.0, (cues.n_words + 1) / SHORT_MESSAGE_WORDS)
            for i, cues in enumerate(messages)
        ]

    def _evidence(
        self,
        pid: str,
        messages: Sequence[MessageCues],
        factors: Sequence[float],
        profile_evidence: list[Evidence],
        skip: Mapping[str, frozenset[str]],
    ) -> list[Evidence]:
        """Readable reasons for ``pid``, strongest first (built for the chosen persona only)."""
        reasons: dict[str, float] = defaultdict(float)
        weights = self.weights[pid]
        for factor, cues in zip(factors, messages, strict=True):
            contact = self._contact_signal(pid, cues, skip)
            for signal, strength in cues.signals.items():
                w = weights.get(signal)
                if signal in CONTACT_SIGNALS and signal != contact:
                    continue
                if w and pid not in skip.get(signal, ()):
                    for snippet in cues.evidence.get(signal, [])[:1]:
                        reasons[_describe(snippet, signal)] += factor * w * strength
            if hit := cues.persona_hits.get(pid):
                for snippet in cues.persona_evidence.get(pid, [])[:1]:
                    reasons[f'wrote "{snippet}" → {pid} phrase'] += factor * hit
        for ev in profile_evidence:
            reasons[ev.text] += ev.weight
        evidence = [Evidence(pid, w, text) for text, w in reasons.items() if w > 0]
        evidence.sort(key=lambda e: -e.weight)
        return evidence

    def _contact_signal(self, pid: str, cues: MessageCues, skip: Mapping[str, frozenset[str]]) -> str | None:
        """The contact signal of this message that counts for ``pid`` (the strongest)."""
        best, best_value = None, 0.0
        for signal in CONTACT_SIGNALS:
            w = self.weights[pid].get(signal, 0.0)
            value = w * cues.signals.get(signal, 0.0) if pid not in skip.get(signal, ()) else 0.0
            if value > best_value:
                best, best_value = signal, value
        return best

    def _profile_scores(self, profile: Profile, channel: str | None) -> dict[str, list[Evidence]]:
        found: dict[str, list[Evidence]] = defaultdict(list)
        total_contacts = sum(profile.contact_history.values())
        for pid, ps in self.profile_signals.items():
            pref = profile.preferred_channel
            if pref and (w := ps.preferred_channel.get(pref)):
                found[pid].append(Evidence(pid, float(w), f"profile: prefers contact by {pref}"))
            if total_contacts >= self.min_contacts:
                for ch, w in ps.contact_history_share.items():
                    count = profile.contact_history.get(ch, 0)
                    if count:
                        share = count / total_contacts
                        text = f"profile: {count} of {total_contacts} past contacts by {ch}"
                        found[pid].append(Evidence(pid, float(w) * share, text))
            for need in profile.accessibility_needs:
                if w := ps.accessibility_needs.get(need):
                    found[pid].append(Evidence(pid, float(w), f"profile: {need} accessibility need"))
            if channel and (w := ps.channel.get(channel)):
                found[pid].append(Evidence(pid, float(w), f"writing from {channel}"))
        return found

    def infer(
        self,
        messages: Sequence[MessageCues],
        *,
        profile: Profile | None = None,
        channel: str | None = None,
        previous: str | None = None,
    ) -> PersonaEstimate:
        profile = profile or Profile()
        if profile.persona and profile.persona in self.ids:
            ev = Evidence(
                profile.persona, 1.0, f"profile: persona {profile.persona!r} assigned by staff or CRM"
            )
            return PersonaEstimate(profile.persona, 1.0, None, {profile.persona: 1.0}, [ev], assigned=True)

        scores: dict[str, float] = dict.fromkeys(self.ids, 0.0)
        factors = self._factors(messages)
        no_phone = cannot_use_phone(messages, profile)
        skip = self.no_phone_skip if no_phone else {}
        for factor, cues in zip(factors, messages, strict=True):
            # Asking for a call and for a person in one message is one wish: the stronger counts.
            contact: dict[str, float] = {}
            for signal, strength in cues.signals.items():
                skipped = skip.get(signal, ())
                for pid, w in self.by_signal.get(signal, ()):
                    if pid in skipped:
                        continue
                    if signal in CONTACT_SIGNALS:
                        contact[pid] = max(contact.get(pid, 0.0), w * strength)
                    else:
                        scores[pid] += factor * w * strength
            for pid, value in contact.items():
                scores[pid] += factor * value
            for pid, hit in cues.persona_hits.items():
                if pid in scores:
                    scores[pid] += factor * hit
        profile_evidence = self._profile_scores(profile, channel)
        for pid, evs in profile_evidence.items():
            for ev in evs:
                scores[pid] += ev.weight
        if self.fallback in scores:
            scores[self.fallback] = max(scores[self.fallback], self.min_score)

        ranked = sorted(self.ids, key=lambda pid: (-scores[pid], pid != self.fallback))
        leader = ranked[0]
        kept = False
        # Hysteresis protects a persona the conversation has shown, not the fallback.
        if (
            previous in scores
            and previous not in (self.fallback, leader)
            and scores[leader] - scores[previous] < self.switch_margin
        ):
            leader, kept = previous, True
        top = max(scores.values())
        exp = {pid: math.exp(s - top) for pid, s in scores.items()}
        norm = sum(exp.values())
        runner = next((pid for pid in ranked if pid != leader), None)

        evidence = self._evidence(leader, messages, factors, profile_evidence.get(leader, []), skip)
        if leader == self.fallback and not evidence:
            best = next((pid for pid in ranked if pid != self.fallback), None)
            if best is not None:
                shown = below(scores[best], self.min_score, digits=1)
                text = f"no persona fits well enough (closest: {best} {shown} < {self.min_score:.1f})"
                evidence.append(Evidence(leader, 0.0, text))
        if kept:
            evidence.append(Evidence(leader, 0.0, f"kept {leader}: {ranked[0]} is not clearly ahead yet"))
        if no_phone and any(m.shows(s) for m in messages for s in CONTACT_SIGNALS):
            phone_first = ", ".join(sorted(self.phone_personas))
            text = f"asking for contact does not count toward {phone_first}: {no_phone}"
            evidence.insert(0, Evidence(leader, 0.0, text))
        return PersonaEstimate(
            persona=leader,
            confidence=exp[leader] / norm,
            runner_up=runner,
            scores=scores,
            evidence=evidence[:MAX_EVIDENCE],
        )


def cannot_use_phone(messages: Sequence[MessageCues], profile: Profile) -> str | None:
    """Why this customer cannot use the phone (hearing or speech), or None."""
    if profile.cannot_take_calls:
        return "profile lists a hearing or speech need"
    if any(m.shows("hearing_need") for m in messages):
        return "customer said they cannot hear or use the phone"
    return None


def resolve_language(
    messages: Sequence[MessageCues], *, profile: Profile | None, catalogue: PersonaCatalogue
) -> tuple[str, str]:
    """The language to answer in, and why.

    A clear message in a supported language sets it; short or ambiguous messages keep the
    conversation's language, else the profile's. An unambiguous short word ("hola",
    "bonjour") sets it only while nothing else has.
    """
    st = catalogue.settings
    supported = set(st.languages)
    lang: str | None = None
    reason = ""
    if profile and profile.preferred_language in supported:
        lang, reason = profile.preferred_language, "profile's preferred language"
    for cues in messages:
        if cues.language_clear and cues.language in supported:
            if cues.language != lang:
                reason = f"customer wrote in {cues.language} ({cues.language_confidence:.2f})"
            lang = cues.language
        elif lang is None and cues.language_marker in supported:
            lang, reason = cues.language_marker, f"greeting or short word in {cues.language_marker}"
    if lang is None:
        return st.default_language, "default language"
    return lang, reason
