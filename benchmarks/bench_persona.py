"""Benchmark: cue extraction + persona inference per message, and loading time.

    python -m benchmarks.bench_persona [--messages 12000]

Messages are real customer wording from the project's data (labelled persona
conversations, held-out NLU examples in English, Spanish and French), replayed as
five-turn conversations: each message is extracted and the conversation so far assessed,
exactly as the NLU component and the action do. Baselines measured in the same run:
spaCy tokenization alone (``make_doc``) and lingua language detection alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    # Imports TensorFlow through thinc; inside a Rasa server it is loaded already.
    import spacy

    t_import = time.perf_counter() - t0
    from bot.persona.assessment import PersonaEngine
    from bot.persona.catalogue import load_catalogue
    from bot.persona.cues import CueExtractor

    t1 = time.perf_counter()
    catalogue = load_catalogue(DEFAULT_PERSONAS_FILE)
    t2 = time.perf_counter()
    extractor = CueExtractor(catalogue)
    engine = PersonaEngine(catalogue)
    t3 = time.perf_counter()

    texts = corpus()
    stream = [texts[i % len(texts)] for i in range(args.messages + WARMUP)]
    per_message: list[float] = []
    conversation = []
    previous = None
    for i, text in enumerate(stream):
        if i % TURNS_PER_CONVERSATION == 0:
            conversation, previous = [], None
        start = time.perf_counter()
        conversation.append(extractor.extract(text))
        result = engine.assess(conversation, channel="socketio", previous_persona=previous)
        elapsed = time.perf_counter() - start
        previous = result.estimate.persona
        if i >= WARMUP:
            per_message.append(elapsed)

    nlp = spacy.blank("en")
    tokenize: list[float] = []
    for text in stream[WARMUP:]:
        start = time.perf_counter()
        nlp.make_doc(text)
        tokenize.append(time.perf_counter() - start)
    detector = extractor.identifier
    detect: list[float] = []
    for text in stream[WARMUP:]:
        start = time.perf_counter()
        detector.identify(text, n_words=len(text.split()))
        detect.append(time.perf_counter() - start)

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
        "baseline_spacy_tokenize": summary(tokenize),
        "baseline_lingua_detect": summary(detect),
    }
    result["ratio_p95_vs_tokenize"] = round(plugin["p95_us"] / result["baseline_spacy_tokenize"]["p95_us"], 1)
    result["ratio_p95_vs_detect"] = round(plugin["p95_us"] / result["baseline_lingua_detect"]["p95_us"], 1)
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
            ("baseline_spacy_tokenize", "baseline: spaCy tokenize"),
            ("baseline_lingua_detect", "baseline: lingua detect"),
        ):
            s = result[key]
            print(f"{label:<30}p50 {s['p50_us']:>7} us  p95 {s['p95_us']:>7} us  p99 {s['p99_us']:>7} us")
        ratios = result["ratio_p95_vs_tokenize"], result["ratio_p95_vs_detect"]
        print(f"p95 ratio vs tokenize: {ratios[0]}x, vs detect: {ratios[1]}x")
        print("target: extract + assess p95 <= 1000 us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
