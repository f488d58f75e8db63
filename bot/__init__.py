"""Persona-aware support assistant plugin for Rasa.

The package holds the logic the Rasa adapters and the action server call into; it
keeps no Rasa-server globals and builds nothing (engines, models) at import time.
"""

__version__ = "0.1.0"
