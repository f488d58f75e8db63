"""Benchmark: turn latency and throughput over REST with the persona plugin on and off.

    python -m benchmarks.bench_rest [--turns 200] [--concurrency 4]

"On" is the assistant as shipped (models/bank.tar.gz: the NLU cue component plus
action_validate_slot_mappings after every message). "Off" is the same data trained
without the cue component and without the validation action (built once into
models/bench/, retrained only when config, domain or data change). Both run in the same
process, one after the other, on free loopback ports, replaying customer wording from
tests/data/personas_dev.yml. Prints p50/p95 turn latency, throughput and the on/off ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack

BENCH_DIR = PROJECT_ROOT / "models" / "bench"
ON_MODEL = PROJECT_ROOT / "models" / "bank.tar.gz"
WARMUP_TURNS = 10


def scripts() -> list[list[str]]:
    data = yaml.safe_load((PROJECT_ROOT / "tests/data/personas_dev.yml").read_text(encoding="utf-8"))
    return [conv["turns"] for conv in data["conversations"]]


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*.yml"))):
            digest.update(file.read_bytes())
    return digest.hexdigest()


def plugin_off_model() -> Path:
    """Train (once) the same assistant without the persona plugin."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    model = BENCH_DIR / "off.tar.gz"
    stamp = BENCH_DIR / "off.fingerprint"
    fingerprint = _fingerprint(
        [PROJECT_ROOT / "config.yml", PROJECT_ROOT / "domain.yml", PROJECT_ROOT / "data"]
    )
    if model.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return model
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if "PersonaCueExtractor" not in c["name"]]
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain["actions"] = [a for a in domain.get("actions", []) if a != "action_validate_slot_mappings"]
    (BENCH_DIR / "config_off.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (BENCH_DIR / "domain_off.yml").write_text(yaml.safe_dump(domain, sort_keys=False), encoding="utf-8")
    print("bench: training the plugin-off model (once)...", flush=True)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "train", "--config", str(BENCH_DIR / "config_off.yml"),
            "--domain", str(BENCH_DIR / "domain_off.yml"), "--data", str(PROJECT_ROOT / "data"),
            "--out", str(BENCH_DIR), "--fixed-model-name", "off", "--force",
        ],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    stamp.write_text(fingerprint)
    return model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_variant(model: Path, *, turns: int, concurrency: int) -> dict[str, Any]:
    convs = scripts()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        stack = Stack.start(model=model, workdir=Path(tmp))
        try:
            for i in range(WARMUP_TURNS):
                stack.rest(f"warm-{i}", convs[i % len(convs)][0])
            latencies: list[float] = []
            done = 0
            while done < turns:
                sender = f"lat-{uuid.uuid4()}"
                for text in convs[done % len(convs)]:
                    start = time.perf_counter()
                    stack.rest(sender, text)
                    latencies.append(time.perf_counter() - start)
                    done += 1
            counter = iter(range(10**9))
            lock = threading.Lock()

            def worker(_: int) -> int:
                sent = 0
                while True:
                    with lock:
                        n = next(counter)
                    if n * 3 >= turns:
                        return sent
                    sender = f"tp-{uuid.uuid4()}"
                    for text in convs[n % len(convs)][:3]:
                        stack.rest(sender, text)
                        sent += 1

            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                sent_total = sum(pool.map(worker, range(concurrency)))
            elapsed = time.perf_counter() - start
        finally:
            stack.stop()
    return {
        "turns": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "mean_ms": round(sum(latencies) / len(latencies) * 1000, 1),
        "throughput_turns_per_s": round(sent_total / elapsed, 2),
        "concurrency": concurrency,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not ON_MODEL.exists():
        print(f"no model at {ON_MODEL}: run 'make train' first", file=sys.stderr)
        return 2
    off_model = plugin_off_model()
    results = {
        "plugin_on": run_variant(ON_MODEL, turns=args.turns, concurrency=args.concurrency),
        "plugin_off": run_variant(off_model, turns=args.turns, concurrency=args.concurrency),
    }
    on, off = results["plugin_on"], results["plugin_off"]
    results["ratio_p50"] = round(on["p50_ms"] / off["p50_ms"], 3)
    results["ratio_p95"] = round(on["p95_ms"] / off["p95_ms"], 3)
    results["ratio_throughput"] = round(on["throughput_turns_per_s"] / off["throughput_turns_per_s"], 3)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'':<12}{'turns':>7}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'turns/s':>10}")
    for name in ("plugin_on", "plugin_off"):
        r = results[name]
        print(
            f"{name:<12}{r['turns']:>7}{r['p50_ms']:>10}{r['p95_ms']:>10}{r['mean_ms']:>10}"
            f"{r['throughput_turns_per_s']:>10}"
        )
    print(
        f"on/off: p50 x{results['ratio_p50']}, p95 x{results['ratio_p95']}, "
        f"throughput x{results['ratio_throughput']} (concurrency {args.concurrency}); "
        "target: latency <= x1.10"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
