"""Thin adapters that plug the bot package into a Rasa server (NLG, NLU components)."""
