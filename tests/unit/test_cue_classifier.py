"""Lemma norms, their cache, and the learned cue classifier's training and storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.persona.cues.classifier import CueClassifier, features
from bot.persona.cues.normalise import LemmaCache, Normaliser, compact_table, fold
from bot.persona.cues.training import CorpusError, load_corpus, train

CUES = ["frustration", "phone_request"]


def test_fold_lowers_and_drops_accents() -> None:
    assert fold("Llámame") == "llamame"
    assert fold("Téléphonez’") == "telephonez'"


def test_norms_are_lemmas_with_synonyms_and_clitics() -> None:
    es = Normaliser(
        "es", {"llamase": "llamar", "llama": "llamar", "telefonee": "telefonear"}, [["llamar", "telefonear"]]
    )
    assert es.norm("llamase") == "llamar"
    assert es.norm("Telefonee") == "llamar"
    assert es.norm("llámame") == "llamar+me"  # "llama" + "me"
    assert es.norm("llamarnos") == "llamar+nos"  # an infinitive + "nos"
    fr = Normaliser("fr", {})
    assert fr.norm("m'") == "me"


def test_compact_table_keeps_the_forms_of_the_wanted_lemmas() -> None:
    full = {"calling": "call", "called": "call", "rang": "ring", "bought": "buy"}
    assert compact_table(full, {"call", "rang"}) == {"calling": "call", "called": "call", "rang": "ring"}


def test_lemma_cache_builds_once_and_prunes_old_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def fake_full(lang: str) -> dict[str, str]:
        calls.append(lang)
        return {"calling": "call"}

    monkeypatch.setattr("bot.persona.cues.normalise.full_table", fake_full)
    cache = LemmaCache(tmp_path)
    assert cache.tables({"en": {"call"}}) == {"en": {"calling": "call"}}
    assert cache.tables({"en": {"call"}}) == {"en": {"calling": "call"}}
    assert calls == ["en"], "the second load comes from the cache file"
    for i in range(6):
        cache.tables({"en": {f"word{i}"}})
    assert len(list(tmp_path.glob("lemmas-*.json"))) == 4


def _corpus(directory: Path, examples: list[dict[str, object]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "en.yml").write_text(
        json.dumps({"version": 1, "language": "en", "examples": examples}), encoding="utf-8"
    )
    return directory


def test_corpus_errors_name_the_file_and_example(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", [{"text": "call me", "cues": ["phone_request", "shouting"]}])
    with pytest.raises(CorpusError, match=r"en\.yml: example 1 has unknown cue\(s\) \['shouting'\]"):
        load_corpus(corpus.glob("*.yml"), CUES)


def test_training_refuses_too_few_examples_per_cue(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", [{"text": "call me", "cues": ["phone_request"]}])
    with pytest.raises(CorpusError, match="fewer than 100 examples per cue: en: frustration has 0"):
        train(corpus, tmp_path / "model", CUES)


def test_training_saves_a_small_model_and_skips_an_unchanged_corpus(tmp_path: Path) -> None:
    examples: list[dict[str, object]] = []
    for i in range(60):
        examples.append({"text": f"please call me back about case {i}", "cues": ["phone_request"]})
        examples.append({"text": f"this is ridiculous, case {i} is still broken", "cues": ["frustration"]})
        examples.append({"text": f"what is the fee for transfer {i}", "cues": []})
    corpus = _corpus(tmp_path / "c", examples)
    result = train(corpus, tmp_path / "model", CUES, min_examples=50)
    assert result["trained"] and result["bytes_on_disk"] < 1_000_000
    assert set(result["report"]["en"]["cues"]) == set(CUES)
    again = train(corpus, tmp_path / "model", CUES, min_examples=50)
    assert again["trained"] is False
    model = CueClassifier.load(tmp_path / "model")
    assert model is not None
    probs = model.predict("could you call me back please", "en")
    assert probs["phone_request"] > 0.5 > probs["frustration"]
    assert model.predict("could you call me back please", "de") == {}


def test_a_model_trained_on_other_features_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({"features_version": -1}), encoding="utf-8")
    assert CueClassifier.load(tmp_path) is None


def test_features_are_words_pairs_and_character_ngrams() -> None:
    found = features("Call me")
    assert {"w:call", "w:me", "b:call me", "c:<ca", "c:all>"} <= found
