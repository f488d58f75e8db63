"""The website: the chat widget's server, a demo help page and a REST relay to Rasa."""
