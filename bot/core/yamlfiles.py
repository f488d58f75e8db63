"""Reading YAML data files fast and safely."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's C loader when PyYAML was built with it (about ten times faster), else Python's;
# both are the safe loaders (plain data only).
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """Parse YAML text into plain data (dicts, lists, strings, numbers); raises yaml.YAMLError."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - SAFE_LOADER is a safe loader
