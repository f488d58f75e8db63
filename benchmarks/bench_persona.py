"""Benchmark: cue extraction + persona inference per message, loading time, and the
evaluation command on a 3,000-message file.

    python -m benchmarks.bench_persona [--messages 12000] [--evaluation-messages 3000]

Messages are real customer wording from the project's data (labelled persona
conversations, held-out NLU examples in English, Spanish and French), replayed as
five-turn conversations: each message is extracted and the conversation so far assessed,
exactly as the NLU component and the assessment do. Baselines measured in the same run:
the rules alone (no cue classifier), spaCy tokenization alone (``make_doc``) and lingua
language detection alone.

The evaluation file is built from the cue corpus (``cue_corpus/``): three-message
conversations in the three languages. It is timed in this process (read the file,
extract and assess every turn, build the report) and as the whole command
(``python -m bot personas evaluate FILE --json``, interpreter start and loading included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bot.core.settings import DEFAULT_PERSONAS_FILE, PROJECT_ROOT

WARMUP = 500
TURNS_PER_CONVERSATION = 5


def corpus() -> list[str]:
    texts: list[str] = []
    for name in ("personas_dev.yml", "personas_holdout.yml"):
        path = PROJECT_ROOT / "tests" / "data" / name
        if path.exists():
            for conv in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
                texts.extend(conv["turns"])
    for path in sorted((PROJECT_ROOT / "tests" / "data").glob("nlu_heldout_*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            texts.extend(line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- "))
    return texts


def evaluation_file(path: Path, messages: int) -> int:
    """Write ``messages`` customer messages as three-turn conversations; returns the count."""
    texts: list[str] = []
    for corpus_file in sorted((PROJECT_ROOT / "cue_corpus").glob("*.yml")):
        texts += [e["text"] for e in yaml.safe_load(corpus_file.read_text(encoding="utf-8"))["examples"]]
    turns = [texts[(i * 7919) % len(texts)] for i in range(messages)]
    conversations = [
        {"id": f"e{i // 3}", "channel": "socketio", "turns": turns[i : i + 3]} for i in range(0, messages, 3)
    ]
    path.write_text(yaml.safe_dump({"version": 1, "conversations": conversations}, allow_unicode=True))
    return sum(len(c["turns"]) for c in conversations)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values_s: list[float]) -> dict[str, float]:
    us = [v * 1e6 for v in values_s]
    return {
        "p50_us": round(percentile(us, 0.50), 1),
        "p95_us": round(percentile(us, 0.95), 1),
        "p99_us": round(percentile(us, 0.99), 1),
        "mean_us": round(statistics.fmean(us), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=12000)
    parser.add_argument("--evaluation-messages", type=int, default=3000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    # Imports TensorFlow through thinc; inside a Rasa server it is loaded already.
    import spacy

    t_import = time.perf_counter() - t0
    from bot.persona.assessment import PersonaEngine
    from bot.persona.catalogue import load_catalogue
    from bot.persona.cues import CueExtractor
    from bot.persona.cues.language import LanguageIdentifier

    t1 = time.perf_counter()
    catalogue = load_catalogue(DEFAULT_PERSONAS_FILE)
    t2 = time.perf_counter()
    extractor = CueExtractor(catalogue)
    engine = PersonaEngine(catalogue)
    t3 = time.perf_counter()

    texts = corpus()
    stream = [texts[i % len(texts)] for i in range(args.messages + WARMUP)]

    def replay(cue_extractor: CueExtractor) -> list[float]:
        per_message: list[float] = []
        conversation = []
        previous = None
        for i, text in enumerate(stream):
            if i % TURNS_PER_CONVERSATION == 0:
                conversation, previous = [], None
            start = time.perf_counter()
            conversation.append(cue_extractor.extract(text))
            result = engine.assess(conversation, channel="socketio", previous_persona=previous)
            elapsed = time.perf_counter() - start
            previous = result.estimate.persona
            if i >= WARMUP:
                per_message.append(elapsed)
        return per_message

    per_message = replay(extractor)
    rules_only = replay(CueExtractor(catalogue, classifier_dir=None))

    nlp = spacy.blank("en")
    tokenize: list[float] = []
    for text in stream[WARMUP:]:
        start = time.perf_counter()
        nlp.make_doc(text)
        tokenize.append(time.perf_counter() - start)
    # lingua alone: the identifier without the function-word step the plugin runs first
    settings = catalogue.settings.language
    detector = LanguageIdentifier(
        catalogue.settings.languages,
        min_words=settings.min_words,
        min_confidence=settings.min_confidence,
        markers=settings.markers,
    )
    detect: list[float] = []
    for text in stream[WARMUP:]:
        start = time.perf_counter()
        detector.identify(text, n_words=len(text.split()))
        detect.append(time.perf_counter() - start)

    from bot.persona.evaluation import default_jobs, evaluate, load_conversations

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evaluation.yml"
        n_eval = evaluation_file(path, args.evaluation_messages)
        timings = {}
        jobs = default_jobs(args.evaluation_messages // 3)
        for label, n_jobs in (("one_process", 1), ("default_jobs", jobs)):
            # A fresh extractor each time: its caches of seen words would flatter the second run.
            fresh = CueExtractor(catalogue)
            start = time.perf_counter()
            evaluate(load_conversations(path), extractor=fresh, engine=engine, jobs=n_jobs).to_json()
            timings[label] = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "personas", "evaluate", str(path), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
        )
        command = time.perf_counter() - start

    plugin = summary(per_message)
    result = {
        "messages": len(per_message),
        "distinct_texts": len(set(texts)),
        "load": {
            "import_spacy_s": round(t_import, 2),
            "catalogue_s": round(t2 - t1, 2),
            "extractor_and_engine_s": round(t3 - t2, 2),
            "plugin_load_s": round(t3 - t1, 2),
        },
        "extract_and_assess": plugin,
        "extract_and_assess_rules_only": summary(rules_only),
        "evaluation": {
            "messages": n_eval,
            "jobs": jobs,
            "one_process_s": round(timings["one_process"], 2),
            "one_process_ms_per_message": round(timings["one_process"] * 1000 / n_eval, 3),
            "in_process_s": round(timings["default_jobs"], 2),
            "in_process_ms_per_message": round(timings["default_jobs"] * 1000 / n_eval, 3),
            "command_s": round(command, 2),
            "command_ms_per_message": round(command * 1000 / n_eval, 3),
        },
        "baseline_spacy_tokenize": summary(tokenize),
        "baseline_lingua_detect": summary(detect),
    }
    result["ratio_p95_vs_tokenize"] = round(plugin["p95_us"] / result["baseline_spacy_tokenize"]["p95_us"], 1)
    result["ratio_p95_vs_detect"] = round(plugin["p95_us"] / result["baseline_lingua_detect"]["p95_us"], 1)
    result["ratio_p95_vs_rules_only"] = round(
        plugin["p95_us"] / result["extract_and_assess_rules_only"]["p95_us"], 2
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        load = result["load"]
        print(
            f"messages measured:            {result['messages']} ({result['distinct_texts']} distinct texts)"
        )
        print(f"load: import spaCy (+TF)      {load['import_spacy_s']} s (already paid inside a Rasa server)")
        print(f"load: catalogue (validated)   {load['catalogue_s']} s")
        print(f"load: extractor + engine      {load['extractor_and_engine_s']} s")
        print(f"load: plugin total            {load['plugin_load_s']} s   (target <= 3 s)")
        for key, label in (
            ("extract_and_assess", "extract + assess per message"),
            ("extract_and_assess_rules_only", "baseline: rules only"),
            ("baseline_spacy_tokenize", "baseline: spaCy tokenize"),
            ("baseline_lingua_detect", "baseline: lingua detect"),
        ):
            s = result[key]
            print(f"{label:<30}p50 {s['p50_us']:>7} us  p95 {s['p95_us']:>7} us  p99 {s['p99_us']:>7} us")
        ratios = result["ratio_p95_vs_tokenize"], result["ratio_p95_vs_detect"]
        print(f"p95 ratio vs tokenize: {ratios[0]}x, vs detect: {ratios[1]}x")
        print(f"p95 ratio with the cue classifier vs rules only: {result['ratio_p95_vs_rules_only']}x")
        print("target: extract + assess p95 <= 1000 us")
        ev = result["evaluation"]
        print(
            f"evaluation of {ev['messages']} messages, loaded: {ev['in_process_s']} s with {ev['jobs']} "
            f"worker(s) = {ev['in_process_ms_per_message']} ms/message (target <= 0.5); one process "
            f"{ev['one_process_s']} s = {ev['one_process_ms_per_message']} ms/message"
        )
        print(
            f"evaluation, whole command (start-up and loading included): {ev['command_s']} s = "
            f"{ev['command_ms_per_message']} ms/message"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
