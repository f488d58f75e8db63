# Two commands matter:  make run  (set up, train if needed, start everything)
#                       make test (set up, lint, types, validate, train, pytest, rasa test)
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup train run test lint types validate pytest stories nlu-eval benchmark clean

help:
	@echo "make run    - set up, train if needed, start action server, Rasa and the web chat"
	@echo "make test   - set up and run the whole test suite (what CI runs)"
	@echo "make setup | train | lint | types | validate | pytest | stories | nlu-eval | benchmark"

setup:
	@bash scripts/setup.sh

train: setup
	@bash scripts/train.sh

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint: setup
	.venv/bin/ruff check bot actions devtools tests scripts benchmarks
	.venv/bin/ruff format --check bot actions devtools tests scripts benchmarks

types: setup
	.venv/bin/mypy bot actions devtools

validate: setup
	@.venv/bin/python scripts/validate_data.py

pytest: train
	@bash scripts/pytest.sh

stories: train
	@bash scripts/rasa.sh test core --stories tests/test_stories.yml --model models/bank.tar.gz --fail-on-prediction-errors --out results/core

nlu-eval: train
	@for lang in en es fr; do \
	  bash scripts/rasa.sh test nlu --nlu tests/data/nlu_heldout_$$lang.yml --model models/bank.tar.gz \
	    --out results/nlu_$$lang >/dev/null 2>&1 || exit 1; \
	  .venv/bin/python -c "import json,sys; r=json.load(open('results/nlu_'+sys.argv[1]+'/intent_report.json')); \
	    print(sys.argv[1], 'intent accuracy', round(r['accuracy'], 3), 'on', int(r['macro avg']['support']), 'held-out examples')" $$lang; \
	done

benchmark: train
	@PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python -m benchmarks.bench_persona
	@PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python -m benchmarks.bench_wording
	@PYTHONPATH=. .venv/bin/python -m benchmarks.bench_handoff --postgres
	@PYTHONPATH=. .venv/bin/python -m benchmarks.bench_console --postgres
	@PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false .venv/bin/python -m benchmarks.bench_rest
	@PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false .venv/bin/python -m benchmarks.bench_live_chat

clean:
	rm -rf models results var .mypy_cache .ruff_cache .pytest_cache
