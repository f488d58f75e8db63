"""Training the cue classifier from the labelled cue corpus (``cue_corpus/*.yml``).

    python -m bot personas train-cues [--corpus cue_corpus] [--out models/cues/classifier]

Each language's examples train one logistic regression per cue (scikit-learn, CPU, a few
seconds). Before the final fit, a fifth of each language's examples (chosen by a hash of
the text, so the split is stable) is held out to report precision and recall per cue;
the model saved is then fitted on every example. Training is skipped when the corpus
and the feature set are unchanged since the saved model (``--force`` retrains).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.core.yamlfiles import safe_load
from bot.persona.cues.classifier import CueClassifier, _LanguageModel, corpus_fingerprint, features

MIN_FEATURE_COUNT = 2
MIN_EXAMPLES_PER_CUE = 100
REGULARISATION_C = 1.0
HELD_OUT_SHARE = 5  # one example in five is held out for the report


class CorpusError(ValueError):
    """The cue corpus is malformed; the message names the file and example."""


@dataclass
class LanguageCorpus:
    language: str
    texts: list[str] = field(default_factory=list)
    labels: list[set[str]] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(cue for labels in self.labels for cue in labels)


def load_corpus(files: Iterable[Path], cues: Sequence[str]) -> dict[str, LanguageCorpus]:
    """Every file's examples by language; raises ``CorpusError`` on anything malformed."""
    known = set(cues)
    out: dict[str, LanguageCorpus] = {}
    for path in sorted(files):
        try:
            data = safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CorpusError(f"{path}: cannot read: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != 1:
            raise CorpusError(f"{path}: expected a mapping with 'version: 1'")
        lang = data.get("language")
        examples = data.get("examples")
        if not isinstance(lang, str) or not isinstance(examples, list):
            raise CorpusError(f"{path}: needs 'language' (a code) and 'examples' (a list)")
        corpus = out.setdefault(lang, LanguageCorpus(lang))
        for i, ex in enumerate(examples):
            text = ex.get("text") if isinstance(ex, dict) else None
            labels = ex.get("cues") if isinstance(ex, dict) else None
            if not isinstance(text, str) or not text.strip() or not isinstance(labels, list):
                raise CorpusError(f"{path}: example {i + 1} needs 'text' and a 'cues' list")
            unknown = sorted(set(map(str, labels)) - known)
            if unknown:
                raise CorpusError(
                    f"{path}: example {i + 1} has unknown cue(s) {unknown}; known: {sorted(known)}"
                )
            corpus.texts.append(text)
            corpus.labels.append(set(labels))
    return out


def _held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % HELD_OUT_SHARE == 0


def _fit(texts: Sequence[str], labels: Sequence[set[str]], cues: Sequence[str]) -> _LanguageModel:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    feats = [features(t) for t in texts]
    counts = Counter(f for fs in feats for f in fs)
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_FEATURE_COUNT))}
    rows, cols = [], []
    for r, fs in enumerate(feats):
        for f in fs:
            if (c := vocab.get(f)) is not None:
                rows.append(r)
                cols.append(c)
    x = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
    weights = np.zeros((len(vocab), len(cues)), dtype=np.float32)
    bias = np.zeros(len(cues), dtype=np.float32)
    for j, cue in enumerate(cues):
        y = np.array([cue in ls for ls in labels], dtype=int)
        if y.min() == y.max():  # no examples of this cue (or only): it is never predicted
            bias[j] = -10.0 if y.max() == 0 else 10.0
            continue
        # Unweighted classes: a second opinion must be precise more than eager.
        model = LogisticRegression(C=REGULARISATION_C, solver="liblinear")
        model.fit(x, y)
        weights[:, j] = model.coef_[0]
        bias[j] = model.intercept_[0]
    return _LanguageModel(vocab, weights, bias)


def _report(
    model: _LanguageModel, texts: Sequence[str], labels: Sequence[set[str]], cues: Sequence[str]
) -> dict[str, Any]:
    clf = CueClassifier(cues, {"x": model})
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for text, gold in zip(texts, labels, strict=True):
        predicted = {c for c, p in clf.predict(text, "x").items() if p >= 0.5}
        for c in cues:
            tp[c] += c in predicted and c in gold
            fp[c] += c in predicted and c not in gold
            fn[c] += c not in predicted and c in gold
    out = {}
    for c in cues:
        precision = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 1.0
        recall = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 1.0
        out[c] = {"precision": round(precision, 3), "recall": round(recall, 3), "support": tp[c] + fn[c]}
    return out


def train(
    corpus_dir: Path,
    out_dir: Path,
    cues: Sequence[str],
    *,
    force: bool = False,
    min_examples: int = MIN_EXAMPLES_PER_CUE,
) -> dict[str, Any]:
    """Train (unless up to date) and save the classifier; returns what was done and the
    held-out report per language and cue."""
    files = sorted(corpus_dir.glob("*.yml"))
    if not files:
        raise CorpusError(f"no corpus files (*.yml) in {corpus_dir}")
    fingerprint = corpus_fingerprint(files)
    existing = CueClassifier.load(out_dir) if (out_dir / "meta.json").exists() else None
    if (
        not force
        and existing is not None
        and existing.fingerprint == fingerprint
        and existing.cues == list(cues)
    ):
        return {"trained": False, "fingerprint": fingerprint, "languages": existing.languages}
    corpora = load_corpus(files, cues)
    thin = [
        f"{lang}: {cue} has {corpus.counts()[cue]}"
        for lang, corpus in sorted(corpora.items())
        for cue in cues
        if corpus.counts()[cue] < min_examples
    ]
    if thin:
        raise CorpusError(f"fewer than {min_examples} examples per cue: " + "; ".join(thin))
    report: dict[str, Any] = {}
    models = {}
    for lang, corpus in sorted(corpora.items()):
        train_idx = [i for i, t in enumerate(corpus.texts) if not _held_out(t)]
        test_idx = [i for i, t in enumerate(corpus.texts) if _held_out(t)]
        split = _fit([corpus.texts[i] for i in train_idx], [corpus.labels[i] for i in train_idx], cues)
        report[lang] = {
            "examples": len(corpus.texts),
            "held_out": len(test_idx),
            "cues": _report(
                split, [corpus.texts[i] for i in test_idx], [corpus.labels[i] for i in test_idx], cues
            ),
        }
        models[lang] = _fit(corpus.texts, corpus.labels, cues)
        report[lang]["features"] = len(models[lang].vocab)
    CueClassifier(cues, models, fingerprint).save(out_dir)
    size = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    return {"trained": True, "fingerprint": fingerprint, "bytes_on_disk": size, "report": report}
