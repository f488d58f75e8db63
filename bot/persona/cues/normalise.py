"""Token norms for cue matching: one form for every way of writing the same word.

A token's norm is its lemma (spaCy's lookup lemmatizer tables from ``spacy-lookups-data``),
lower-cased, with accents folded ("teléfono" typed as "telefono"), contractions spelled
out by the tokenizer ("don't" → "do" "not") and synonyms mapped to the first word of
their set ("telephone", "ring" → "call"). Spanish enclitic pronouns stay attached as
``+me`` ("llámame", "llamarme" → "llamar+me"). The catalogue's phrases and token patterns
are normalised by the same function, so "call me" also matches "could you telephone me",
"give me a ring" matches "give me a call", and "llamar" matches "llamase" or "llamara".

spaCy's full lookup tables take seconds to load (Spanish: 490,000 forms); only the
forms whose lemma the catalogue uses matter, so those are kept in a small table cached
on disk (``LemmaCache``), built once per catalogue and ``spacy-lookups-data`` version.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# Pronouns Spanish writes onto the verb ("llámame", "llamarnos", "devuélvanmela").
_ES_CLITICS = ("nos", "me", "te", "le", "les", "lo", "la")
# French elisions the language-neutral tokenizer splits off ("m'appelez" → "m'" "appelez").
ELISIONS = {
    "m'": "me",
    "t'": "te",
    "n'": "ne",
    "j'": "je",
    "l'": "le",
    "d'": "de",
    "s'": "se",
    "c'": "ce",
    "qu'": "que",
}
MAX_CACHED_NORMS = 50_000
# Lemma table files kept in the cache directory (one per catalogue version).
MAX_CACHED_TABLES = 4


@functools.lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Lower-case without accents ("Llámame" → "llamame"); "ñ" and "ç" fold too."""
    lowered = text.lower().replace("’", "'")
    if lowered.isascii():
        return lowered
    return "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))


def _table_lemma(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return None


def lookups_version() -> str:
    try:
        from importlib.metadata import version

        return version("spacy-lookups-data")
    except Exception:  # the package is optional for reading stored cues
        return "none"


def full_table(lang: str) -> dict[str, str]:
    """spaCy's lemma lookup table for ``lang`` with folded keys and values (slow: seconds)."""
    try:
        import spacy_lookups_data
        import srsly

        path = Path(str(getattr(spacy_lookups_data, lang)["lemma_lookup"]))
        gz = path.with_name(path.name + ".gz")
        table = srsly.read_gzip_json(gz) if gz.exists() else srsly.read_json(path)
    except Exception as exc:  # no table: norms are folded forms only
        logger.warning("no lemma table for %s (%s): matching on word forms", lang, exc)
        return {}
    out: dict[str, str] = {}
    for form, value in table.items():
        lemma = _table_lemma(value)
        if lemma and isinstance(form, str):
            out.setdefault(fold(form), fold(lemma))
    return out


class Normaliser:
    """Norms for one language.

    Args:
        lang: ISO 639-1 code.
        lemmas: folded form -> folded lemma (may be a subset of spaCy's table).
        synonyms: sets of folded lemmas that mean the same here; the first is the norm.
        extra_lemmas: form -> lemma entries that correct or extend the table.
    """

    def __init__(
        self,
        lang: str,
        lemmas: Mapping[str, str],
        synonyms: Sequence[Sequence[str]] = (),
        extra_lemmas: Mapping[str, str] | None = None,
    ) -> None:
        self.lang = lang
        self.lemmas = dict(lemmas)
        for form, lemma in (extra_lemmas or {}).items():
            self.lemmas[fold(form)] = fold(lemma)
        self.synonyms: dict[str, str] = {}
        for group in synonyms:
            folded = [self._lemma(fold(w)) for w in group]
            for word in folded:
                self.synonyms.setdefault(word, folded[0])
        self._cache: dict[str, str] = {}

    def _lemma(self, folded: str) -> str:
        lemma = self.lemmas.get(folded)
        if lemma is not None:
            return lemma
        if self.lang == "es" and len(folded) > 4:
            for clitic in _ES_CLITICS:
                if folded.endswith(clitic):
                    stem = folded[: -len(clitic)]
                    # "llamame" → "llama", "llamarme" → "llamar", "llamenme" → "llamen"
                    base = self.lemmas.get(stem) or (stem if stem.endswith(("ar", "er", "ir")) else None)
                    if base:
                        return f"{base}+{clitic}"
        return folded

    def norm(self, text: str) -> str:
        """The norm of one token's text (or of its tokenizer norm, e.g. "n't" → "not")."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        folded = fold(text)
        if folded in ELISIONS:
            result = ELISIONS[folded]
        else:
            lemma = self._lemma(folded)
            base, plus, clitic = lemma.partition("+")
            result = self.synonyms.get(base, base) + plus + clitic
        if len(self._cache) < MAX_CACHED_NORMS:
            self._cache[text] = result
        return result


def compact_table(full: Mapping[str, str], words: Iterable[str]) -> dict[str, str]:
    """The entries of ``full`` that share a lemma with one of ``words`` (folded forms)."""
    keep = {full.get(w, w) for w in words}
    return {form: lemma for form, lemma in full.items() if lemma in keep and form != lemma}


class LemmaCache:
    """Compact lemma tables on disk, keyed by the lemmas wanted and the table version.

    ``tables(words)`` returns ``{lang: {form: lemma}}`` for every form sharing a lemma with
    one of that language's ``words`` (the catalogue's): from the cache file when its key
    matches, else built from spaCy's full tables (seconds) and written back.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _key(self, words: Mapping[str, set[str]]) -> str:
        digest = hashlib.sha256(lookups_version().encode())
        for lang in sorted(words):
            digest.update(lang.encode())
            digest.update("\n".join(sorted(words[lang])).encode())
        return digest.hexdigest()[:16]

    def tables(self, words: Mapping[str, set[str]]) -> dict[str, dict[str, str]]:
        key = self._key(words)
        path = self.directory / f"lemmas-{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and set(data) == set(words):
                return {lang: dict(table) for lang, table in data.items()}
        except (OSError, ValueError):
            pass
        logger.info("building compact lemma tables for %s (once per catalogue)", ", ".join(sorted(words)))
        built = {lang: compact_table(full_table(lang), wanted) for lang, wanted in words.items()}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(built, ensure_ascii=False, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
            self._prune(keep=path)
        except OSError as exc:
            logger.warning("could not cache lemma tables in %s: %s", self.directory, exc)
        return built

    def _prune(self, *, keep: Path) -> None:
        """Forget all but the most recent tables (each catalogue edit makes new ones)."""
        older = sorted(
            (p for p in self.directory.glob("lemmas-*.json") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in older[MAX_CACHED_TABLES - 1 :]:
            stale.unlink(missing_ok=True)
