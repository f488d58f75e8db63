"""Load and validate ``personas.yml``; errors name the file, the line, the persona and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.persona.catalogue.guard import check_raw_catalogue
from bot.persona.catalogue.model import REQUIRED_SIGNALS, PersonaCatalogue

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Issue:
    """One problem in a catalogue file."""

    file: str
    line: int | None
    persona: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f"persona {self.persona!r}, " if self.persona else ""
        return f"{where}: {who}field {self.field!r}: {self.message}"


class CatalogueError(ValueError):
    """The persona catalogue is invalid. ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("invalid persona catalogue:\n" + "\n".join(f"  {i}" for i in issues))


def _node_line(root: yaml.Node | None, path: Path_) -> int | None:
    """1-based line of the deepest YAML node found along ``path``."""
    node, line = root, None
    for part in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if key.value == str(part):
                    nxt, line = value, key.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


class _Reporter:
    def __init__(self, file: Path, raw: Any, root: yaml.Node | None) -> None:
        self.file, self.raw, self.root = str(file), raw, root
        self.issues: list[Issue] = []
        self.paths: list[Path_] = []

    def add(self, path: Path_, message: str) -> None:
        self.paths.append(path)
        persona, field_path = None, path
        if len(path) >= 2 and path[0] == "personas" and isinstance(path[1], int):
            personas = self.raw.get("personas") if isinstance(self.raw, dict) else None
            entry = personas[path[1]] if isinstance(personas, list) and path[1] < len(personas) else None
            pid = entry.get("id") if isinstance(entry, dict) else None
            persona = str(pid) if pid else f"#{path[1] + 1}"
            field_path = path[2:]
        field = ".".join(str(p) for p in field_path) or "(top level)"
        issue = Issue(self.file, _node_line(self.root, path), persona, field, message)
        if issue not in self.issues:
            self.issues.append(issue)


def _pydantic_issues(reporter: _Reporter, error: ValidationError) -> None:
    seen: set[Path_] = set()
    flagged = set(reporter.paths)
    for err in error.errors():
        loc = tuple(err["loc"])
        if loc in flagged:
            continue
        # Union members each report a failure; keep the first message per location.
        if loc in seen:
            continue
        seen.add(loc)
        reporter.add(loc, err["msg"])


def _cross_checks(reporter: _Reporter, cat: PersonaCatalogue, *, compile_patterns: bool) -> None:
    st = cat.settings
    langs = set(st.languages)
    if st.default_language not in langs:
        reporter.add(
            ("settings", "default_language"), f"{st.default_language!r} is not in settings.languages"
        )
    ids = cat.ids
    for i, pid in enumerate(ids):
        if pid in ids[:i]:
            reporter.add(("personas", i, "id"), f"duplicate persona id {pid!r}")
    if st.fallback_persona not in ids:
        reporter.add(("settings", "fallback_persona"), f"no persona with id {st.fallback_persona!r}")
    for name in sorted(REQUIRED_SIGNALS - set(cat.signals)):
        reporter.add(("signals",), f"signal {name!r} must be defined (the assistant's decisions read it)")
    for lang in sorted(set(st.language.markers) - langs):
        reporter.add(("settings", "language", "markers", lang), f"language {lang!r} is not supported")
    known = cat.signal_names()
    for name, signal in cat.signals.items():
        for lang in sorted(signal.languages() - langs):
            reporter.add(("signals", name, "phrases"), f"language {lang!r} is not in settings.languages")
        if signal.negated_as is not None and signal.negated_as not in cat.signals:
            reporter.add(("signals", name, "negated_as"), f"unknown signal {signal.negated_as!r}")
        if signal.opposite is not None and signal.opposite not in cat.signals:
            reporter.add(("signals", name, "opposite"), f"unknown signal {signal.opposite!r}")
    for lang in sorted(set(st.matching) - langs):
        reporter.add(("settings", "matching", lang), f"language {lang!r} is not in settings.languages")
    for i, persona in enumerate(cat.personas):
        for name in persona.cues.signals:
            if name not in known:
                reporter.add(
                    ("personas", i, "cues", "signals", name),
                    f"unknown signal {name!r}; known: {', '.join(sorted(known))}",
                )
        for lang in sorted(persona.cues.languages() - langs):
            reporter.add(("personas", i, "cues"), f"language {lang!r} is not in settings.languages")
    if compile_patterns:
        _check_patterns(reporter, cat)


def _check_patterns(reporter: _Reporter, cat: PersonaCatalogue) -> None:
    """Compile every token pattern with spaCy's Matcher so bad patterns fail here, not at runtime."""
    import spacy
    from spacy.matcher import Matcher

    vocab = spacy.blank("en").vocab
    lexicons: list[tuple[Path_, Any]] = [(("signals", n), s) for n, s in cat.signals.items()]
    lexicons += [(("personas", i, "cues"), p.cues) for i, p in enumerate(cat.personas)]
    for path, lexicon in lexicons:
        for lang in lexicon.patterns:
            for j, item in enumerate(lexicon.pattern_items(lang)):
                try:
                    Matcher(vocab, validate=True).add("check", [item.pattern])
                except (ValueError, TypeError) as exc:
                    first = str(exc).strip().splitlines()
                    reporter.add(
                        (*path, "patterns", lang, j), f"invalid spaCy pattern: {' '.join(first)[:300]}"
                    )


def parse_catalogue(text: str, *, file: Path, compile_patterns: bool = True) -> PersonaCatalogue:
    """Validate catalogue YAML text. Raises ``CatalogueError`` listing every problem.

    Args:
        text: the YAML.
        file: named in error messages.
        compile_patterns: also compile every token pattern with spaCy (imports spaCy,
            which costs seconds in a process that has not loaded it yet).
    """
    reporter = _Reporter(file, None, None)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise CatalogueError([Issue(str(file), line, None, "(file)", f"not valid YAML: {exc}")]) from exc
    reporter = _Reporter(file, raw, root)
    if not isinstance(raw, dict):
        reporter.add((), "the file must be a mapping with version, settings, signals and personas")
        raise CatalogueError(reporter.issues)
    for path, message in check_raw_catalogue(raw):
        reporter.add(path, message)
    try:
        catalogue = PersonaCatalogue.parse_obj(raw)
    except ValidationError as exc:
        _pydantic_issues(reporter, exc)
        raise CatalogueError(reporter.issues) from exc
    _cross_checks(reporter, catalogue, compile_patterns=compile_patterns)
    if reporter.issues:
        raise CatalogueError(reporter.issues)
    return catalogue


def load_catalogue(path: Path, *, compile_patterns: bool = True) -> PersonaCatalogue:
    """Read and validate a catalogue file. Raises ``CatalogueError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(
            [Issue(str(path), None, None, "(file)", f"cannot read: {exc.strerror}")]
        ) from exc
    return parse_catalogue(text, file=path, compile_patterns=compile_patterns)


def persona_ids(path: Path) -> list[str]:
    """The persona ids of the catalogue at ``path`` (raises ``CatalogueError``)."""
    return load_catalogue(path, compile_patterns=False).ids
