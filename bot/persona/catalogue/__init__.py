"""The persona catalogue: model, loading and validation (with the stereotype guard)."""

from bot.persona.catalogue.loader import CatalogueError, Issue, load_catalogue, parse_catalogue, persona_ids
from bot.persona.catalogue.model import Escalation, Persona, PersonaCatalogue

__all__ = [
    "CatalogueError",
    "Escalation",
    "Issue",
    "Persona",
    "PersonaCatalogue",
    "load_catalogue",
    "parse_catalogue",
    "persona_ids",
]
