"""The website: the web chat page and its relay to Rasa."""
