"""Benchmark: turn latency and throughput over REST with the persona plugin on and off.

    python -m benchmarks.bench_rest [--turns 200] [--concurrency 4] [--rounds 3]
                                    [--long-turns 60] [--long-conversations 10] [--no-control]

"On" is the assistant as shipped (models/bank.tar.gz: the NLU cue component and the
persona policy, which sets the persona and route slots inside Rasa after every message).
"Off" is the same data trained without the cue component and without the persona policy
(built once into models/bench/, retrained only when config, domain or data change). Both
stacks run side by side on free loopback ports, replaying customer wording from
tests/data/personas_dev.yml. Each round starts both stacks afresh and together (a Rasa
process's speed varies from one start to the next by up to ~2 ms a turn, most often to the
cost of the one started first, see ``start_stacks``) and warms them alike. The machine is shared, so load
drifts over minutes; each round therefore runs every conversation on both stacks one right
after the other (which goes first alternates), then throughput on each (on then off, off
then on, … alternating by round). Each round gives p50/p95 turn latency, throughput and
the on/off ratios, for every turn and for the turns where both stacks ran the same actions
(read from the trackers after each conversation; where the plugin books a callback or
hands over, the stacks do different work, which is the product and not the plugin's cost),
with a second throughput on single questions that make both stacks do the same work. The
verdict on the plugin's cost is on the median same-work ratios over the rounds; every-turn
ratios are printed too.

A control round follows (``--no-control`` skips it): two stacks of the plugin-off model,
measured as the rounds are, whose ratios show how far apart two stacks doing the same thing
measure in the same run.

Then, on the last round's stacks, long conversations (10 of 60 customer turns each, plain
banking questions that hand nothing over) advance on both stacks together: the latency of
the last five turns against turns 5-9 (medians, pooled over the conversations; the single
turns 60 and 5 are printed too) shows whether a turn's cost grows with the conversation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack, post_json

BENCH_DIR = PROJECT_ROOT / "models" / "bench"
ON_MODEL = PROJECT_ROOT / "models" / "bank.tar.gz"
WARMUP_TURNS = 10
# What the plugin adds to the assistant: the "off" model is trained without these.
PLUGIN_COMPONENTS = ("bot.rasa.nlu.PersonaCueExtractor", "bot.rasa.persona_policy.PersonaPolicy")
# Targets, on the median over the rounds.
MAX_LATENCY_RATIO = 1.05
MIN_THROUGHPUT_RATIO = 0.95
MAX_LONG_RATIO = 1.2
EARLY_TURN = 5
# Turns pooled at each end of the long conversations for the verdict.
WINDOW = 5
# A step of the long conversations (one message from each) lasts at least this long: the
# REST channel lets a sender send 60 messages a minute (credentials.yml).
LONG_STEP_SECONDS = 1.05
# Messages that would hand the conversation over, answer an offer or fall back are left
# out of the long conversations: a paused conversation or a form is not a turn like the others.
NOT_IN_LONG = frozenset(
    {"request_human", "request_phone_call", "affirm", "deny", "goodbye", "nlu_fallback", "out_of_scope"}
)


def scripts() -> list[list[str]]:
    data = yaml.safe_load((PROJECT_ROOT / "tests/data/personas_dev.yml").read_text(encoding="utf-8"))
    return [conv["turns"] for conv in data["conversations"]]


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256(repr(PLUGIN_COMPONENTS).encode())
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
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in PLUGIN_COMPONENTS]
    config["policies"] = [c for c in config["policies"] if c["name"] not in PLUGIN_COMPONENTS]
    (BENCH_DIR / "config_off.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    print("bench: training the plugin-off model (once)...", flush=True)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "train", "--config", str(BENCH_DIR / "config_off.yml"),
            "--domain", str(PROJECT_ROOT / "domain.yml"), "--data", str(PROJECT_ROOT / "data"),
            "--out", str(BENCH_DIR), "--fixed-model-name", "off", "--force",
        ],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    stamp.write_text(fingerprint)
    return model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plain_questions(stack: Stack) -> list[str]:
    """The customer wording of the scripts that gets an answer and nothing more (parsed by the
    running model: no request for a person or a call, no yes/no, no fallback)."""
    out: list[str] = []
    for text in dict.fromkeys(t for conv in scripts() for t in conv):
        parsed = post_json(stack.api("/model/parse"), {"text": text})
        if (parsed.get("intent") or {}).get("name") not in NOT_IN_LONG and not parsed.get("also_requested"):
            out.append(text)
    return out


def long_conversations(stacks: dict[str, Stack], *, turns: int, conversations: int) -> dict[str, Any]:
    """Per-turn latency along conversations of ``turns`` customer messages, on each stack:
    the median over the conversations of turn ``EARLY_TURN`` and of the last turn, and the
    median of the ``WINDOW`` turns from ``EARLY_TURN`` on against that of the last
    ``WINDOW`` turns (every conversation says something different at each step, and one
    message's latency depends on what it asks: the windows pool ``WINDOW`` × conversations
    turns each, and the verdict is on their ratio).

    All conversations advance together, one message each per step (the stacks' order
    alternating), and a step lasts at least ``LONG_STEP_SECONDS``: the REST channel lets one
    sender send 60 messages a minute (a customer does not type faster), and a refused
    message is no turn.
    """
    texts = {name: plain_questions(stack) for name, stack in stacks.items()}
    senders = {name: [f"long-{uuid.uuid4()}" for _ in range(conversations)] for name in stacks}
    latencies: dict[str, list[list[float]]] = {name: [[] for _ in range(conversations)] for name in stacks}
    names = list(stacks)
    for i in range(turns):
        step = time.perf_counter()
        for name in names if i % 2 == 0 else names[::-1]:
            for n, sender in enumerate(senders[name]):
                start = time.perf_counter()
                stacks[name].rest(sender, texts[name][(n * 7 + i) % len(texts[name])])
                latencies[name][n].append(time.perf_counter() - start)
        time.sleep(max(0.0, LONG_STEP_SECONDS - (time.perf_counter() - step)))
    out: dict[str, Any] = {}
    for name, stack in stacks.items():
        paused = 0
        for sender in senders[name]:
            tracker = stack.tracker(sender)
            paused += bool(tracker.get("paused") or (tracker.get("active_loop") or {}).get("name"))
        each = latencies[name]
        early = [conv[EARLY_TURN - 1] for conv in each]
        last = [conv[-1] for conv in each]
        early_ms, last_ms = statistics.median(early) * 1000, statistics.median(last) * 1000
        early_window = statistics.median(
            v for conv in each for v in conv[EARLY_TURN - 1 : EARLY_TURN - 1 + WINDOW]
        )
        last_window = statistics.median(v for conv in each for v in conv[-WINDOW:])
        out[name] = {
            "turns": turns,
            "conversations": conversations,
            "distinct_messages": len(texts[name]),
            "handed_over_or_in_form": paused,
            f"turn_{EARLY_TURN}_ms": round(early_ms, 1),
            f"turn_{turns}_ms": round(last_ms, 1),
            "turn_ratio": round(last_ms / early_ms, 3),
            f"turns_{EARLY_TURN}_{EARLY_TURN + WINDOW - 1}_median_ms": round(early_window * 1000, 1),
            f"turns_{turns - WINDOW + 1}_{turns}_median_ms": round(last_window * 1000, 1),
            "ratio": round(last_window / early_window, 3),
            f"turn_{EARLY_TURN}_each_ms": [round(v * 1000, 1) for v in early],
            f"turn_{turns}_each_ms": [round(v * 1000, 1) for v in last],
            "turns_1_10_median_ms": round(statistics.median(v for conv in each for v in conv[:10]) * 1000, 1),
            f"turns_{turns - 9}_{turns}_median_ms": round(
                statistics.median(v for conv in each for v in conv[-10:]) * 1000, 1
            ),
        }
    return out


def turn_actions(tracker: dict[str, Any]) -> list[list[str]]:
    """The actions run after each customer message of a tracker (``action_listen`` left out)."""
    turns: list[list[str]] = []
    for event in tracker.get("events") or []:
        if event.get("event") == "user":
            turns.append([])
        elif event.get("event") == "action" and turns and event.get("name") != "action_listen":
            turns[-1].append(str(event.get("name")))
    return turns


def latency_pass(
    stacks: dict[str, Stack], order: list[str], *, turns: int
) -> tuple[dict[str, list[float]], list[bool]]:
    """Sequential turn latencies: each script conversation is run on every stack, one after
    the other (which goes first alternates), until each has had ``turns`` turns. Also, for
    each turn, whether every stack ran the same actions after it (read from the trackers
    after the conversation, outside the timing): where the plugin changes what happens (a
    callback booked, a hand-over, an answer in the customer's language after a fallback),
    the two stacks do different work, and the difference is the product, not the plugin's
    cost."""
    convs = scripts()
    latencies: dict[str, list[float]] = {name: [] for name in order}
    same: list[bool] = []
    done = k = 0
    while done < turns:
        conv = convs[k % len(convs)]
        actions: list[list[list[str]]] = []
        for name in order if k % 2 == 0 else order[::-1]:
            sender = f"lat-{uuid.uuid4()}"
            for text in conv:
                start = time.perf_counter()
                stacks[name].rest(sender, text)
                latencies[name].append(time.perf_counter() - start)
            actions.append(turn_actions(stacks[name].tracker(sender)))
        for i in range(len(conv)):
            each = [found[i] if i < len(found) else None for found in actions]
            same.append(each[0] is not None and all(a == each[0] for a in each))
        done += len(conv)
        k += 1
    return latencies, same


def same_work_questions(stacks: dict[str, Stack]) -> list[str]:
    """The plain questions that, as a conversation's first message, make every stack run
    the same actions (the throughput of the same work)."""
    names = list(stacks)
    out: list[str] = []
    for text in plain_questions(stacks[names[0]]):
        found = []
        for name in names:
            sender = f"same-{uuid.uuid4()}"
            stacks[name].rest(sender, text)
            found.append(turn_actions(stacks[name].tracker(sender)))
        if all(f == found[0] for f in found):
            out.append(text)
    return out


def throughput(
    stack: Stack,
    *,
    turns: int,
    concurrency: int,
    conversations: list[list[str]] | None = None,
    errors: list[str] | None = None,
) -> float:
    """Turns a second with ``concurrency`` conversations at a time: the first three turns of
    the scripts, or ``conversations``. A refused request is no turn; what the server said is
    added to ``errors`` (printed with the round)."""
    convs = conversations or [conv[:3] for conv in scripts()]
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker(_: int) -> int:
        sent = 0
        while True:
            with lock:
                n = next(counter)
                if sent_so_far[0] >= turns:
                    return sent
                conv = convs[n % len(convs)]
                sent_so_far[0] += len(conv)
            sender = f"tp-{uuid.uuid4()}"
            for text in conv:
                try:
                    stack.rest(sender, text)
                except urllib.error.HTTPError as exc:
                    if errors is not None:
                        errors.append(f"{exc.code} {exc.read()[:200]!r} for {text[:60]!r}")
                    continue
                sent += 1

    sent_so_far = [0]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        sent_total = sum(pool.map(worker, range(concurrency)))
    return sent_total / (time.perf_counter() - start)


def _latency(lat: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(lat, 0.5) * 1000, 1),
        "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
        "mean_ms": round(sum(lat) / len(lat) * 1000, 1),
    }


def median_ratios(rounds: list[dict[str, Any]], key: str) -> dict[str, float]:
    """The median over the rounds of each on/off ratio under ``key``."""
    return {k: round(statistics.median(r[key][k] for r in rounds), 3) for k in ("p50", "p95", "throughput")}


def start_stacks(models: dict[str, Path], order: list[str], workdir: Path) -> dict[str, Stack]:
    """Both stacks, started afresh at the same time and warmed alike, message by message in
    turn: the same messages, and every script message parsed once by each (TensorFlow and
    the caches meet each wording before the timing). Between two stacks of the same model, a
    Rasa process was measured 0.1–1.9 ms a turn slower than the other, the same one for the
    life of the processes, most often the one started first (4 pairs of 4): each round
    therefore runs on new processes, started together so that neither is first."""
    stacks: dict[str, Stack] = {}
    print(f"bench: starting {' and '.join(order)} together...", file=sys.stderr, flush=True)
    with ThreadPoolExecutor(len(order)) as pool:
        futures = {
            name: pool.submit(Stack.start, model=models[name], workdir=workdir / name) for name in order
        }
        failure: BaseException | None = None
        for name, future in futures.items():
            try:
                stacks[name] = future.result()
            except BaseException as exc:  # the other stack still has to be stopped
                failure = failure or exc
    try:
        if failure is not None:
            raise failure
        convs = scripts()
        texts = list(dict.fromkeys(t for conv in convs for t in conv))
        for i in range(WARMUP_TURNS):
            for name in order:
                stacks[name].rest(f"warm-{i}", convs[i % len(convs)][0])
        for text in texts:
            for name in order:
                post_json(stacks[name].api("/model/parse"), {"text": text})
    except BaseException:
        for stack in stacks.values():
            stack.stop()
        raise
    return stacks


def measure_round(
    stacks: dict[str, Stack], order: list[str], *, turns: int, concurrency: int, same_texts: list[str]
) -> dict[str, Any]:
    """One round: the interleaved latency pass, then throughput on each stack in ``order``
    (the scripts, then single questions that make both stacks do the same work)."""
    latencies, same = latency_pass(stacks, order, turns=turns)
    rates: dict[str, dict[str, float]] = {name: {} for name in order}
    errors: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        rates[name]["all"] = throughput(
            stacks[name], turns=turns, concurrency=concurrency, errors=errors[name]
        )
    same_convs = [[text] for text in same_texts]
    for name in order:
        rates[name]["same"] = throughput(
            stacks[name], turns=turns, concurrency=concurrency, conversations=same_convs, errors=errors[name]
        )
    found: dict[str, Any] = {"order": order}
    for name in order:
        lat = latencies[name]
        matched = [v for v, ok in zip(lat, same, strict=True) if ok]
        found[name] = {
            "turns": len(lat),
            **_latency(lat),
            "throughput_turns_per_s": round(rates[name]["all"], 2),
            "same_work": {
                "turns": len(matched),
                **_latency(matched),
                "throughput_turns_per_s": round(rates[name]["same"], 2),
            },
            "concurrency": concurrency,
            "refused": errors[name],
        }
    return found


def control_round(
    model: Path, workdir: Path, args: argparse.Namespace, same_texts: list[str]
) -> dict[str, Any]:
    """One round, as the others, of two stacks of the same model: the ratios two stacks that
    do exactly the same thing give in this run, against which the plugin's are read."""
    names = ["control_a", "control_b"]
    stacks = start_stacks(dict.fromkeys(names, model), names, workdir)
    try:
        print("bench: control round (plugin off against plugin off)...", file=sys.stderr, flush=True)
        found = measure_round(
            stacks, names, turns=args.turns, concurrency=args.concurrency, same_texts=same_texts
        )
    finally:
        for stack in stacks.values():
            stack.stop()
    with_ratios(found, *names)
    print(f"bench: control: {json.dumps(found)}", file=sys.stderr, flush=True)
    return found


def with_ratios(found: dict[str, Any], first: str, second: str) -> None:
    """Add a round's ratios of ``first`` to ``second``, every turn and the same work."""
    found["ratio"] = ratios(found[first], found[second])
    found["same_work_ratio"] = ratios(found[first]["same_work"], found[second]["same_work"])


def ratios(on: dict[str, Any], off: dict[str, Any]) -> dict[str, float]:
    return {
        "p50": round(on["p50_ms"] / off["p50_ms"], 3),
        "p95": round(on["p95_ms"] / off["p95_ms"], 3),
        "throughput": round(on["throughput_turns_per_s"] / off["throughput_turns_per_s"], 3),
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long-turns", type=int, default=60)
    parser.add_argument("--long-conversations", type=int, default=10)
    parser.add_argument(
        "--control",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the rounds, one round of two plugin-off stacks against each other: how far "
        "apart two stacks doing the same thing measure in this run (default: on)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not ON_MODEL.exists():
        print(f"no model at {ON_MODEL}: run 'make train' first", file=sys.stderr)
        return 2
    if args.long_turns and args.long_turns < EARLY_TURN:
        parser.error(f"--long-turns must be at least {EARLY_TURN}")
    models = {"plugin_on": ON_MODEL, "plugin_off": plugin_off_model()}
    rounds: list[dict[str, Any]] = []
    same_texts: list[str] = []
    long: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for r in range(args.rounds):
            order = ["plugin_on", "plugin_off"] if r % 2 == 0 else ["plugin_off", "plugin_on"]
            last = r == args.rounds - 1
            stacks = start_stacks(models, order, Path(tmp) / f"round-{r + 1}")
            try:
                if not same_texts:
                    same_texts = same_work_questions(stacks)
                    print(
                        f"bench: {len(same_texts)} questions make both stacks run the same actions",
                        file=sys.stderr,
                        flush=True,
                    )
                print(
                    f"bench: round {r + 1}/{args.rounds} (run {' then '.join(order)})...",
                    file=sys.stderr,
                    flush=True,
                )
                found = measure_round(
                    stacks, order, turns=args.turns, concurrency=args.concurrency, same_texts=same_texts
                )
                with_ratios(found, "plugin_on", "plugin_off")
                rounds.append(found)
                print(f"bench: round {r + 1}: {json.dumps(found)}", file=sys.stderr, flush=True)
                if last and args.long_turns and args.long_conversations:
                    long = long_conversations(
                        stacks, turns=args.long_turns, conversations=args.long_conversations
                    )
            finally:
                for stack in stacks.values():
                    stack.stop()
        control: dict[str, Any] = {}
        if args.control:
            control = control_round(models["plugin_off"], Path(tmp) / "control", args, same_texts)
    median, same_median = median_ratios(rounds, "ratio"), median_ratios(rounds, "same_work_ratio")
    results: dict[str, Any] = {
        "rounds": rounds,
        "median_ratio": median,
        "same_work_median_ratio": same_median,
        "long_conversation": long,
        "control": control,
    }
    long_on, long_off = long.get("plugin_on"), long.get("plugin_off")
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"{'round':<7}{'variant':<12}{'turns':>7}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'turns/s':>10}"
        f"{'| same':>8}{'p50 ms':>10}{'p95 ms':>10}{'turns/s':>10}"
    )
    for i, found in enumerate(rounds, 1):
        for name in found["order"]:
            v, w = found[name], found[name]["same_work"]
            print(
                f"{i:<7}{name:<12}{v['turns']:>7}{v['p50_ms']:>10}{v['p95_ms']:>10}{v['mean_ms']:>10}"
                f"{v['throughput_turns_per_s']:>10}{w['turns']:>8}{w['p50_ms']:>10}{w['p95_ms']:>10}"
                f"{w['throughput_turns_per_s']:>10}"
            )
        for name in found["order"]:
            for refused in found[name]["refused"]:
                print(f"{i:<7}{name:<12}refused: {refused}")
        q, m = found["ratio"], found["same_work_ratio"]
        print(f"{i:<7}{'on/off':<12}{'':>7}{'x' + str(q['p50']):>10}{'x' + str(q['p95']):>10}{'':>10}"
              f"{'x' + str(q['throughput']):>10}{'':>8}{'x' + str(m['p50']):>10}{'x' + str(m['p95']):>10}"
              f"{'x' + str(m['throughput']):>10}")  # fmt: skip
    print(
        f"median on/off over {len(rounds)} rounds, every turn: p50 x{median['p50']}, p95 x{median['p95']}, "
        f"throughput x{median['throughput']} (concurrency {args.concurrency})"
    )
    print(
        f"median on/off over {len(rounds)} rounds, turns where both stacks ran the same actions: "
        f"p50 x{same_median['p50']}, p95 x{same_median['p95']}, throughput x{same_median['throughput']} "
        f"({len(same_texts)} single questions)"
    )
    if control:
        q, m = control["ratio"], control["same_work_ratio"]
        print(
            f"control, plugin off against plugin off (one round): every turn p50 x{q['p50']}, "
            f"p95 x{q['p95']}, throughput x{q['throughput']}; same work p50 x{m['p50']}, p95 x{m['p95']}, "
            f"throughput x{m['throughput']}"
        )
    for name, each in (("plugin_on", long_on), ("plugin_off", long_off)):
        if each:
            t = each["turns"]
            first, last = f"{EARLY_TURN}_{EARLY_TURN + WINDOW - 1}", f"{t - WINDOW + 1}_{t}"
            print(
                f"{name}: {each['conversations']} conversations of {t} turns: turns "
                f"{first.replace('_', '-')} {each[f'turns_{first}_median_ms']} ms, turns "
                f"{last.replace('_', '-')} {each[f'turns_{last}_median_ms']} ms (medians): x{each['ratio']}; "
                f"turn {EARLY_TURN} {each[f'turn_{EARLY_TURN}_ms']} ms, turn {t} {each[f'turn_{t}_ms']} ms: "
                f"x{each['turn_ratio']}; turns 1-10 {each['turns_1_10_median_ms']} ms, turns {t - 9}-{t} "
                f"{each[f'turns_{t - 9}_{t}_median_ms']} ms ({each['handed_over_or_in_form']} handed over "
                "or in a form)"
            )
    print(
        f"targets, the plugin's cost (same work): latency <= x{MAX_LATENCY_RATIO} (p50 and p95): "
        f"{_verdict(max(same_median['p50'], same_median['p95']) <= MAX_LATENCY_RATIO)}; "
        f"throughput >= x{MIN_THROUGHPUT_RATIO}: "
        f"{_verdict(same_median['throughput'] >= MIN_THROUGHPUT_RATIO)}; every turn (with the work "
        f"the plugin adds): latency {_verdict(max(median['p50'], median['p95']) <= MAX_LATENCY_RATIO)}, "
        f"throughput {_verdict(median['throughput'] >= MIN_THROUGHPUT_RATIO)}"
        + (
            f"; last {WINDOW} turns of {long_on['turns']} <= x{MAX_LONG_RATIO} of turns {EARLY_TURN}-"
            f"{EARLY_TURN + WINDOW - 1} (plugin on): "
            f"{_verdict(long_on['ratio'] <= MAX_LONG_RATIO)}"
            if long_on
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
