"""`rasa data validate`, failing on every warning except one Rasa gets wrong here.

Rasa warns "The utterance 'utter_x' is not used in any story or rule" for responses that
custom actions utter (dispatcher.utter_message(response="utter_x"), including the lead
responses and live-chat messages bot/ decides on) and for the questions forms ask
(utter_ask_<slot>). Those responses — named in actions/ or bot/, or asking for a slot a
form in domain.yml requires — have their warnings accepted; every
other warning fails, as with --fail-on-warnings. A response used nowhere still fails.

    python scripts/validate_data.py      (run by scripts/test.sh)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
USED_BY_ACTIONS = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
UNUSED = re.compile(r"The utterance '(utter_[a-z0-9_]+)' is not used in any story or rule")


def uttered_by_actions() -> set[str]:
    names: set[str] = set()
    for path in [*(ROOT / "actions").glob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        names |= set(USED_BY_ACTIONS.findall(path.read_text(encoding="utf-8")))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for form in (domain.get("forms") or {}).values():
        names |= {f"utter_ask_{slot}" for slot in form.get("required_slots") or []}
    return names


def main() -> int:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "rasa.sh"), "data", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    allowed = uttered_by_actions()
    problems = []
    for line in output.splitlines():
        if "UserWarning" not in line and "WARNING" not in line:
            continue
        unused = UNUSED.search(line)
        if unused and unused.group(1) in allowed:
            continue
        problems.append(line.strip())
    if result.returncode != 0 or problems:
        print(output[-4000:] if result.returncode else "", file=sys.stderr)
        for line in problems:
            print(f"validate: {line}", file=sys.stderr)
        print(f"validate: failed (exit {result.returncode}, {len(problems)} warnings)", file=sys.stderr)
        return 1
    print(f"validate: ok ({len(allowed)} responses uttered by custom actions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
