"""Rasa action server package: thin actions that call into ``bot``."""

from actions.handoff import (
    ActionAskCallbackNumber,
    ActionAskCallbackWindow,
    ActionBookCallback,
    ActionCancelCallback,
    ActionDeclineCallback,
    ActionEscalate,
    ActionOfferMoreHelp,
    ActionRephrase,
    ActionSessionStart,
    ValidateCallbackForm,
)
from actions.persona import ValidatePersonaSlots

__all__ = [
    "ActionAskCallbackNumber",
    "ActionAskCallbackWindow",
    "ActionBookCallback",
    "ActionCancelCallback",
    "ActionDeclineCallback",
    "ActionEscalate",
    "ActionOfferMoreHelp",
    "ActionRephrase",
    "ActionSessionStart",
    "ValidateCallbackForm",
    "ValidatePersonaSlots",
]
