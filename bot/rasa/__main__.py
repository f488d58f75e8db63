"""Rasa's own command line, with the plugin's speed-ups installed first.

``python -m bot.rasa run --model … --endpoints endpoints.yml`` is ``rasa run …`` after
``bot.rasa.logs.install()`` (no card data in any log line) and ``bot.rasa.speedups.install()``
(the action-server responses validated with validators built once; see that module).
``make run``, the test stack and ``scripts/rasa.sh`` start Rasa this way.
"""

from __future__ import annotations

import sys

from bot.rasa import logs, speedups


def main() -> None:
    from rasa.__main__ import main as rasa_main

    logs.install()
    speedups.install()
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
