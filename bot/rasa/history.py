"""A conversation's history computed once, then extended: Rasa 3.6 reads a tracker's whole
history several times for every action it predicts.

Rasa's policies ask for the applied events (``DialogueStateTracker.applied_events``: the
events without those undone by rewinds, restarts and rejected form runs) and for the
state of the dialogue before every action (``Domain.states_for_tracker_history``, which
replays the applied events onto a fresh tracker). Both walk the whole conversation, about
ten times a turn: in a 60-turn conversation they were a third of the turn, and the reason
a turn's cost grew with the conversation.

``install()`` makes both incremental, with the same results:

- ``applied_events`` remembers, on the tracker, the events it has seen and what it
  returned. When the tracker has only gained events since (checked by identity: same
  deque, same first and last seen event) and none of the new ones can undo or reorder
  anything (a restart, a session start, a rewind, a form's activation or its next run),
  the new events are appended to the remembered list; otherwise Rasa's own method runs.
- ``states_for_tracker_history`` remembers, on the tracker, how far it replayed (the
  replayed tracker, the states so far, the rule-only bookkeeping of Rasa's loop). When
  the applied events start with the ones it replayed (checked by identity), it carries on
  from there; otherwise it starts over, as Rasa does.

Callers get new lists and their own copy of every state and of its user sub-state (Rasa's
featurizers delete keys of those in place). ``clone()`` copies a tracker without replaying
it, with its remembered history: it replaces ``DialogueStateTracker.copy`` (Rasa copies the
tracker, replaying every event, before each action it runs), and the tracker store's cache
(``bot.rasa.tracker_store``) hands out clones, so the next turn's tracker shares the stored
events and its history is extended, not rebuilt.
"""

from __future__ import annotations

import copy
import itertools
import logging
import operator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
_INSTALLED_FLAG = "_persona_plugin_incremental_history"
_APPLIED = "_persona_plugin_applied"
_STATES = "_persona_plugin_states"
# Kinds of event for the applied-events check.
_PLAIN, _RESETS, _LOOP, _ACTION = 0, 1, 2, 3


@cache
def _kind(cls: type[Event]) -> int:
    """Event classes are abstract-base classes: ``isinstance`` on every event of a long
    conversation costs more than the rest of the check."""
    if issubclass(cls, (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)):
        return _RESETS
    if issubclass(cls, ActiveLoop):
        return _LOOP
    if issubclass(cls, ActionExecuted):
        return _ACTION
    return _PLAIN


@dataclass(frozen=True)
class _Applied:
    """What ``applied_events`` returned for the first ``count`` events of ``events``."""

    events: Any  # the tracker's deque
    count: int
    first: Event | None
    last: Event | None
    loop_names: frozenset[str]
    applied: list[Event]  # never changed in place


@dataclass
class _Replay:
    """Where ``states_for_tracker_history`` stopped: after replaying ``applied``."""

    domain: Domain
    omit_unset_slots: bool
    ignore_rule_only_turns: bool
    rule_only_data: dict[str, Any] | None
    applied: list[Event] = field(default_factory=list)
    replay: DialogueStateTracker | None = None
    states: list[State] = field(default_factory=list)  # never changed in place
    last_ml_action_sub_state: SubState | None = None
    turn_was_hidden: bool = False


def _loop_names(events: Any) -> frozenset[str]:
    return frozenset(e.name for e in events if _kind(e.__class__) == _LOOP and e.name)


def _extends(events: Any, memo: _Applied) -> bool:
    if memo.events is not events or len(events) < memo.count:
        return False
    if memo.count == 0:
        return True
    return events[0] is memo.first and events[memo.count - 1] is memo.last


def _plain_additions(new: list[Event], loop_names: frozenset[str]) -> bool:
    """Whether appending ``new`` to the applied events is what Rasa's walk would do."""
    for event in new:
        kind = _kind(event.__class__)
        if kind == _RESETS:
            return False
        if kind == _LOOP and event.name and event.name not in loop_names:  # type: ignore[attr-defined]
            return False  # a new form: earlier runs of it are judged again
        if kind == _ACTION and event.action_name in loop_names:  # type: ignore[attr-defined]
            return False  # a form's run may undo its previous run
    return True


def applied_events(tracker: DialogueStateTracker, rasa_applied_events: Any) -> list[Event]:
    """``tracker.applied_events()``, extended from the last call when that is exact."""
    events = tracker.events
    count = len(events)
    memo: _Applied | None = tracker.__dict__.get(_APPLIED)
    if memo is not None and _extends(events, memo):
        if count == memo.count:
            return list(memo.applied)
        new = list(itertools.islice(events, memo.count, None))
        if _plain_additions(new, memo.loop_names):
            applied = memo.applied + new
            tracker.__dict__[_APPLIED] = _Applied(
                events, count, events[0], events[-1], memo.loop_names, applied
            )
            return list(applied)
    applied = list(rasa_applied_events(tracker))
    tracker.__dict__[_APPLIED] = _Applied(
        events,
        count,
        events[0] if count else None,
        events[-1] if count else None,
        _loop_names(events),
        list(applied),
    )
    return applied


def _copy_state(state: State) -> State:
    """A state for a caller to edit. Rasa's featurizers edit the states they get in one way:
    they delete keys of the user sub-state (``del state[USER][TEXT]``, in
    ``rasa/core/featurizers/tracker_featurizers.py``); the other sub-states are read only, so
    they are shared (copying every sub-state of every state of the conversation, about ten
    times a turn, was ~1 ms a turn by turn 60)."""
    copied = dict(state)
    user = copied.get(USER)
    if user is not None:
        copied[USER] = dict(user)
    return copied


def _starts_with(applied: list[Event], prefix: list[Event]) -> bool:
    n = len(prefix)
    if len(applied) < n:
        return False
    return n == 0 or (applied[n - 1] is prefix[-1] and all(map(operator.is_, applied[:n], prefix)))


def _turn(
    domain: Domain, memo: _Replay, tr: DialogueStateTracker, hide_rule_turn: bool, states: list[State]
) -> State | None:
    """One step of Rasa's ``states_for_tracker_history`` loop (its code, its order): the
    state before an action, or None for a turn hidden from the ML policies. Updates
    ``memo``'s rule-only bookkeeping."""
    if memo.ignore_rule_only_turns:
        if not memo.turn_was_hidden:
            memo.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
            memo.turn_was_hidden = hide_rule_turn
        if memo.turn_was_hidden:
            return None
    state = domain.get_active_state(tr, omit_unset_slots=memo.omit_unset_slots)
    if memo.ignore_rule_only_turns:
        domain._remove_rule_only_features(state, memo.rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if memo.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = memo.last_ml_action_sub_state
    return domain._clean_state(state)


def states_for_tracker_history(
    domain: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``domain.states_for_tracker_history(tracker, …)``, carried on from the last call on
    this tracker when its applied events start with the ones replayed then."""
    applied = tracker.applied_events()
    memos: dict[tuple[int, bool, bool], _Replay] = tracker.__dict__.setdefault(_STATES, {})
    key = (id(domain), omit_unset_slots, ignore_rule_only_turns)
    memo = memos.get(key)
    if (
        memo is None
        or memo.domain is not domain
        or memo.rule_only_data != rule_only_data
        or memo.replay is None
        or not _starts_with(applied, memo.applied)
    ):
        memo = _Replay(domain, omit_unset_slots, ignore_rule_only_turns, copy.deepcopy(rule_only_data))
        memo.replay = tracker.init_copy()
        memos[key] = memo
    tr = memo.replay
    assert tr is not None
    states = memo.states
    new_states: list[State] = []
    for event in applied[len(memo.applied) :]:
        if _kind(event.__class__) == _ACTION:
            state = _turn(domain, memo, tr, event.hide_rule_turn, new_states or states)  # type: ignore[attr-defined]
            if state is not None:
                new_states.append(state)
        tr.update(event)
    if new_states:
        states = memo.states = states + new_states
    memo.applied = applied
    # The state after the last event is not kept: the next event decides whether it is one.
    hidden, last_ml = memo.turn_was_hidden, memo.last_ml_action_sub_state
    final = _turn(domain, memo, tr, False, states)
    memo.turn_was_hidden, memo.last_ml_action_sub_state = hidden, last_ml
    out = [_copy_state(s) for s in states]
    if final is not None:
        out.append(_copy_state(final))  # its user sub-state may be the last state's
    return out


def clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of ``tracker`` without replaying its events: the same event objects (Rasa
    does not change an event once it is on a tracker), its own event list, slots, loop
    and latest action, and its history so far (``applied_events`` and the states carry on
    from it)."""
    new = DialogueStateTracker.__new__(DialogueStateTracker)
    new.__dict__.update({k: v for k, v in tracker.__dict__.items() if k not in (_APPLIED, _STATES)})
    new.events = copy.copy(tracker.events)
    new.slots = {name: copy.copy(slot) for name, slot in tracker.slots.items()}
    if isinstance(tracker.latest_action, dict):
        new.latest_action = dict(tracker.latest_action)
    if tracker.active_loop is not None:
        new.active_loop = copy.copy(tracker.active_loop)
    _copy_history(tracker, new)
    return new


def adopt(target: DialogueStateTracker, source: DialogueStateTracker) -> bool:
    """Give ``target`` the history computed on ``source`` when both hold the same event
    objects (the tracker store's kept copy after a save: the events the turn added, unless
    the store redacted one). Returns whether it did."""
    if len(target.events) != len(source.events) or not all(map(operator.is_, target.events, source.events)):
        return False
    _copy_history(source, target)
    return True


def _copy_history(source: DialogueStateTracker, target: DialogueStateTracker) -> None:
    """``source``'s remembered history onto ``target``, whose first events are ``source``'s."""
    memo: _Applied | None = source.__dict__.get(_APPLIED)
    if memo is not None and _extends(source.events, memo):
        target.__dict__[_APPLIED] = _Applied(
            target.events, memo.count, memo.first, memo.last, memo.loop_names, memo.applied
        )
    memos: dict[Any, _Replay] = source.__dict__.get(_STATES) or {}
    copied = {
        key: _Replay(
            replay.domain,
            replay.omit_unset_slots,
            replay.ignore_rule_only_turns,
            replay.rule_only_data,
            replay.applied,
            clone(replay.replay),
            replay.states,
            replay.last_ml_action_sub_state,
            replay.turn_was_hidden,
        )
        for key, replay in memos.items()
        if replay.replay is not None
    }
    if copied:
        target.__dict__[_STATES] = copied


def install() -> None:
    """Patch ``DialogueStateTracker.applied_events``, ``DialogueStateTracker.copy`` and
    ``Domain.states_for_tracker_history`` once per process (idempotent)."""
    if getattr(DialogueStateTracker, _INSTALLED_FLAG, False):
        return
    rasa_applied_events = DialogueStateTracker.applied_events

    def _applied_events(self: DialogueStateTracker) -> list[Event]:
        return applied_events(self, rasa_applied_events)

    DialogueStateTracker.applied_events = _applied_events  # type: ignore[method-assign]
    # Rasa's copy replays every event (for each action it runs); a clone is the same tracker.
    DialogueStateTracker.copy = clone  # type: ignore[method-assign]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    setattr(DialogueStateTracker, _INSTALLED_FLAG, True)
    logger.info("speedups.installed history=incremental")
