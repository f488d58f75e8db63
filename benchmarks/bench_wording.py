"""Benchmark: rendering one response for a persona, language and channel.

    python -m benchmarks.bench_wording [--renders 20000]

Renders every domain response for every persona, language and output format (with the
frustration acknowledgement and the phone line where they apply), and, as the baseline
in the same run, Rasa's own templated rendering of the same responses.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from benchmarks.bench_persona import summary
from bot.core.bank import load_bank_info
from bot.core.settings import DEFAULT_BANK_CONFIG, DEFAULT_PERSONAS_FILE, PROJECT_ROOT
from bot.persona.catalogue import load_catalogue
from bot.wording import RenderContext, Renderer, load_wording

WARMUP = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    personas = load_catalogue(DEFAULT_PERSONAS_FILE, compile_patterns=False)
    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    start = time.perf_counter()
    wording = load_wording(PROJECT_ROOT / "data" / "wording", personas=personas, domain_responses=responses)
    load_s = time.perf_counter() - start
    bank = load_bank_info(DEFAULT_BANK_CONFIG)
    renderer = Renderer(wording=wording, bank=bank, personas=personas)
    templated = TemplatedNaturalLanguageGenerator(responses)
    bank_vars = bank.template_vars("en")

    cases = list(
        itertools.product(
            responses,
            [*personas.ids, None],
            personas.settings.languages,
            ["sms", "whatsapp", "telegram", "socketio", "rest"],
            [False, True],
        )
    )
    previous: list[str] = []
    ours: list[float] = []
    for i in range(args.renders + WARMUP):
        name, persona, language, fmt, frustrated = cases[i % len(cases)]
        ctx = RenderContext(
            persona=persona, language=language, fmt=fmt, frustrated=frustrated,
            phone_line=persona == "phone_first", previous_texts=previous,
        )  # fmt: skip
        t0 = time.perf_counter()
        message = renderer.render(name, ctx)
        elapsed = time.perf_counter() - t0
        if i >= WARMUP:
            ours.append(elapsed)
        if message and frustrated:
            previous = [*previous[-5:], message["text"]]
    baseline: list[float] = []
    for i in range(args.renders + WARMUP):
        name = cases[i % len(cases)][0]
        t0 = time.perf_counter()
        templated.generate_from_slots(name, {}, "rest", **bank_vars)
        elapsed = time.perf_counter() - t0
        if i >= WARMUP:
            baseline.append(elapsed)
    result = {
        "renders": len(ours),
        "catalogue_load_s": round(load_s, 3),
        "render": summary(ours),
        "baseline_rasa_templated": summary(baseline),
    }
    result["ratio_p95"] = round(result["render"]["p95_us"] / result["baseline_rasa_templated"]["p95_us"], 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"renders measured:           {result['renders']} ({len(cases)} distinct cases)")
    print(f"wording catalogue load:     {result['catalogue_load_s']} s")
    for key, label in (
        ("render", "persona-aware render"),
        ("baseline_rasa_templated", "baseline: Rasa templated"),
    ):
        s = result[key]
        print(f"{label:<28}p50 {s['p50_us']:>7} us  p95 {s['p95_us']:>7} us  p99 {s['p99_us']:>7} us")
    print(f"p95 ratio vs Rasa's templated rendering: {result['ratio_p95']}x; target: render p95 <= 1000 us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
