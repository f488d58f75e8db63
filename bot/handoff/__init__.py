"""The handoff side: passing a conversation to staff, as a phone callback or a live chat.

``routing`` (what happens after a customer message), ``request`` (what a handoff carries),
``transcript`` and ``redaction``, ``service`` (business hours and live-chat waits),
``windows`` (callback times), ``phones`` (callback numbers), ``rasa_api`` (resuming the
assistant), ``conversation`` (a conversation as staff see it), ``assist`` (suggested
replies for staff) and ``cli`` (the staff commands).
"""
