"""The learned second opinion on a message's cues: a small multilabel classifier.

One linear model per language (logistic regression, one output per cue) over binary
features of the text: words, word pairs and character 3- and 4-grams inside words (accents
folded); shape (capitals, emoji, length) is left to the rules. Character n-grams carry
inflections and spellings the rules have never listed ("telefonéeme", "rappellerez");
word pairs carry negation ("no need", "pas besoin"). It is trained by the project's
training step from the labelled cue corpus (``cue_corpus/*.yml``,
``python -m bot personas train-cues``) and scores one message with a dictionary lookup
per word and one vector sum (tens of microseconds).

Its probabilities are combined with the rules in ``CueExtractor``: a cue the rules missed
counts when the classifier is confident, and the evidence says so.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.settings import PROJECT_ROOT
from bot.persona.cues.normalise import fold

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "cues" / "classifier"
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "cue_corpus"
# Bump when ``features`` changes: a model trained on other features must be retrained.
FEATURES_VERSION = 3
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[!?]{2,}")
CHAR_NGRAMS = (3, 4)
MAX_CACHED_WORDS = 100_000


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def word_features(word: str) -> list[str]:
    """A word's own features: the word and its character n-grams."""
    padded = f"<{word}>"
    out = [f"w:{word}"]
    for n in CHAR_NGRAMS:
        out.extend(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return out


def features(text: str) -> set[str]:
    """Binary features of one message (see the module docstring)."""
    words = _words(text)
    found = {f for w in words for f in word_features(w)}
    found.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    return found


@dataclass
class _LanguageModel:
    vocab: dict[str, int]
    weights: np.ndarray[Any, np.dtype[np.float32]]  # (features, cues)
    bias: np.ndarray[Any, np.dtype[np.float32]]  # (cues,)
    # word -> the rows of its own features (words recur: each is split into n-grams once)
    word_rows: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def rows(self, words: list[str]) -> list[int]:
        vocab, cache = self.vocab, self.word_rows
        rows: set[int] = set()
        for word in words:
            found = cache.get(word)
            if found is None:
                found = tuple(i for f in word_features(word) if (i := vocab.get(f)) is not None)
                if len(cache) < MAX_CACHED_WORDS:
                    cache[word] = found
            rows.update(found)
        for a, b in itertools.pairwise(words):
            if (i := vocab.get(f"b:{a} {b}")) is not None:
                rows.add(i)
        return list(rows)


class CueClassifier:
    """Cue probabilities for one message in one of the trained languages."""

    def __init__(self, cues: Sequence[str], models: dict[str, _LanguageModel], fingerprint: str = "") -> None:
        self.cues = list(cues)
        self.models = models
        self.fingerprint = fingerprint

    @property
    def languages(self) -> list[str]:
        return sorted(self.models)

    def predict(self, text: str, language: str | None) -> dict[str, float]:
        """cue -> probability for ``text`` read as ``language`` ({} for other languages)."""
        model = self.models.get(language or "")
        if model is None or not text.strip():
            return {}
        rows = model.rows(_words(text))
        z = model.bias + (model.weights[rows].sum(axis=0) if rows else 0.0)
        probs = 1.0 / (1.0 + np.exp(-z))
        return {cue: float(p) for cue, p in zip(self.cues, probs, strict=True)}

    # -- storage ---------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        languages: dict[str, Any] = {}
        meta = {
            "features_version": FEATURES_VERSION,
            "fingerprint": self.fingerprint,
            "cues": self.cues,
            "languages": languages,
        }
        for lang, model in self.models.items():
            vocab = sorted(model.vocab, key=model.vocab.__getitem__)
            languages[lang] = {"vocab": vocab, "bias": [round(float(b), 5) for b in model.bias]}
            np.save(directory / f"{lang}.npy", model.weights.astype(np.float16), allow_pickle=False)
        tmp = directory / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tmp.replace(directory / "meta.json")

    @classmethod
    def load(cls, directory: Path = DEFAULT_MODEL_DIR) -> CueClassifier | None:
        """The trained classifier in ``directory``, or None (logged) when there is none."""
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            if meta.get("features_version") != FEATURES_VERSION:
                logger.warning("cue classifier in %s was trained on other features: retrain it", directory)
                return None
            models = {}
            for lang, data in meta["languages"].items():
                weights = np.load(directory / f"{lang}.npy", allow_pickle=False).astype(np.float32)
                vocab = {f: i for i, f in enumerate(data["vocab"])}
                models[lang] = _LanguageModel(vocab, weights, np.asarray(data["bias"], dtype=np.float32))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning(
                "no cue classifier in %s (%s): cues come from the rules only; "
                "train it with 'python -m bot personas train-cues'",
                directory,
                exc,
            )
            return None
        return cls(meta["cues"], models, meta.get("fingerprint", ""))


def corpus_fingerprint(files: Iterable[Path]) -> str:
    digest = hashlib.sha256(f"features {FEATURES_VERSION}".encode())
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
