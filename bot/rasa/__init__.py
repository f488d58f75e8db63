"""The thin adapters that plug the plugin into a Rasa server: the NLU component
(``nlu``), the policy that sets the persona and route slots (``persona_policy``), the NLG
(``nlg``), the Twilio channel (``channels``) and the speed-ups installed by
``python -m bot.rasa`` (``speedups``)."""
