"""The persona catalogue: model, loading and validation (with the stereotype guard)."""

from bot.personas.loader import CatalogueError, Issue, load_catalogue, parse_catalogue
from bot.personas.model import Catalogue, Escalation, Persona

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Escalation",
    "Issue",
    "Persona",
    "load_catalogue",
    "parse_catalogue",
]
