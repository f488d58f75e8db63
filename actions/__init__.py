"""Rasa action server package: thin actions that call into ``bot``, one module per service.

``session`` (session start and the profile), ``handover`` (callback offer, reaching a
person), ``callback_form``, ``live_chat``; ``common`` holds the tracker helpers and the
adapter from Rasa names to the facts ``bot`` decides on. The persona and route slots are
set inside Rasa after every message (``bot.rasa.persona_policy``), not here.
"""

from actions.callback_form import (
    ActionAskCallbackNumber,
    ActionAskCallbackWindow,
    ActionBookCallback,
    ActionCancelCallback,
    ValidateCallbackForm,
)
from actions.handover import ActionDeclineCallback, ActionHandOver, ActionOfferMoreHelp, ActionRephrase
from actions.session import ActionSessionStart

__all__ = [
    "ActionAskCallbackNumber",
    "ActionAskCallbackWindow",
    "ActionBookCallback",
    "ActionCancelCallback",
    "ActionDeclineCallback",
    "ActionHandOver",
    "ActionOfferMoreHelp",
    "ActionRephrase",
    "ActionSessionStart",
    "ValidateCallbackForm",
]
