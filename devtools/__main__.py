"""``python -m devtools wait-ready URL… [--timeout S]``: wait until the URLs answer with 2xx
(the run script waits for its servers this way)."""

from __future__ import annotations

import argparse
import sys

from devtools.readiness import wait_ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools")
    sub = parser.add_subparsers(dest="command", required=True)
    ready = sub.add_parser("wait-ready", help="wait until URLs answer with 2xx")
    ready.add_argument("urls", nargs="+")
    ready.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    pending = wait_ready(args.urls, timeout=args.timeout)
    if pending:
        print(f"error: not answering after {args.timeout:.0f}s: {', '.join(pending)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
