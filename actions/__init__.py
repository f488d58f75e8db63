"""Rasa action server package: thin actions that call into ``bot``."""

from actions.persona import ValidatePersonaSlots

__all__ = ["ValidatePersonaSlots"]
