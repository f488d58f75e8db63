"""Rasa action server package: thin actions that call into ``bot``."""
