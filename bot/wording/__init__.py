"""Persona-, language- and channel-aware wording: catalogue, rendering, channel formatting."""

from bot.wording.catalogue import WordingCatalogue, WordingError, check_completeness, load_wording
from bot.wording.formatting import format_message, map_numeric_reply
from bot.wording.render import RenderContext, Renderer

__all__ = [
    "RenderContext",
    "Renderer",
    "WordingCatalogue",
    "WordingError",
    "check_completeness",
    "format_message",
    "load_wording",
    "map_numeric_reply",
]
