"""``python -m actions``: the action server (``actions.server``)."""

from actions.server import main

if __name__ == "__main__":  # rasa-sdk imports every module of the package when it starts
    main()
