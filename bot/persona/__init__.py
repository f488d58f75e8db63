"""The persona side: who the customer is and whether to offer them the phone.

``catalogue`` (personas.yml), ``cues`` (per message), ``profile``, ``inference`` (persona
estimate with evidence), ``phone_offer`` (the phone-offer decision), ``assessment`` (what
the assistant knows after each message) and ``evaluation`` (labelled conversations).
"""
