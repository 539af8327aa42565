"""Prompt building: templates, passages numbered [1]..[n], packed to a budget.

The templates ship inside the package (``rag/prompts/``, read through ``importlib.resources``, so an
installed package finds them wherever it lives); ``settings.prompts_dir`` replaces them with a
directory of one's own. The repository's top-level ``prompts/`` is a link to the shipped ones.

Templates are plain files with ``${name}`` placeholders (``string.Template``), so passages that
contain braces or dollar signs pass through untouched. The context is packed greedily, best passage
first, until ``settings.context_tokens`` (cl100k tokens) is spent; a passage that does not fit is
skipped so a smaller one further down may still go in. The best passage always goes in, cut at a
word boundary if it alone is over budget, because an empty context can only produce a refusal.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from rag.answer.cite import neutralize_markers
from rag.config import Settings
from rag.errors import ConfigError
from rag.text.tokens import count_tokens
from rag.types import Passage

LANGUAGE_NAMES = {"ru": "Russian", "en": "English"}
# Tokens taken by the "[n] " label and the blank line between passages.
_PASSAGE_OVERHEAD = 6


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt and the passages it numbers (``passages[i]`` is ``[i + 1]``)."""

    system: str
    user: str
    passages: tuple[Passage, ...]


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8")


def templates(settings: Settings) -> Traversable:
    """Where the templates come from: ``settings.prompts_dir``, else the ones shipped in the package."""
    if settings.prompts_dir is not None:
        return Path(settings.prompts_dir)
    return resources.files("rag").joinpath("prompts")


def load_template(name: str, settings: Settings) -> str:
    """The text of template ``name`` (e.g. ``"system.txt"``)."""
    path = templates(settings).joinpath(name)
    try:
        if isinstance(path, Path):
            # Keyed by modification time, so an edited template is picked up without a restart.
            return _read(path, path.stat().st_mtime_ns)
        return path.read_text(encoding="utf-8")  # inside a zip: read as shipped
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"prompt template {path} cannot be read: {reason}") from None


def refusal_message(language: str, settings: Settings) -> str:
    """The fixed message for a question the documents do not answer, in ``language``."""
    lang = language if language in LANGUAGE_NAMES else "en"
    return load_template(f"refusal.{lang}.txt", settings).strip()


def _passage_tokens(passage: Passage) -> int:
    c = passage.chunk
    return count_tokens(f"{c.title}\n{c.text}") + _PASSAGE_OVERHEAD


def _truncate(passage: Passage, budget: int) -> Passage:
    """The passage cut at the last word boundary that keeps it within ``budget`` tokens."""
    c = passage.chunk
    ends = [m.end() for m in re.finditer(r"\S+", c.text)]
    lo, hi = 0, len(ends) - 1  # binary search for the longest prefix that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(f"{c.title}\n{c.text[: ends[mid]]}") + _PASSAGE_OVERHEAD <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = ends[lo] if ends else 0
    chunk = dataclasses.replace(c, text=c.text[:cut], end=c.start + cut)
    # Stored sentences must stay inside the cut text: keep the whole ones, drop the rest.
    keep = [i for i, (_, end) in enumerate(passage.sentences) if end <= cut]
    vectors = passage.sentence_vectors[keep] if passage.sentence_vectors is not None else None
    sentences = tuple(passage.sentences[i] for i in keep)
    if not sentences:
        vectors = None
    return dataclasses.replace(passage, chunk=chunk, sentences=sentences, sentence_vectors=vectors)


def pack_passages(passages: list[Passage] | tuple[Passage, ...], budget: int) -> list[Passage]:
    """The passages that fit in ``budget`` tokens, best first; idempotent on its own output."""
    packed: list[Passage] = []
    used = 0
    for passage in passages:
        cost = _passage_tokens(passage)
        if used + cost <= budget:
            packed.append(passage)
            used += cost
        elif not packed:
            packed.append(_truncate(passage, budget))
            used = budget
    return packed


def format_context(passages: list[Passage] | tuple[Passage, ...]) -> str:
    """The passages as numbered blocks: ``[n] title`` then the text."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        # Brackets like "[2]" in a document must not pass for the service's own passage numbers.
        title = f" {neutralize_markers(p.chunk.title)}" if p.chunk.title else ""
        blocks.append(f"[{n}]{title}\n{neutralize_markers(p.chunk.text.strip())}")
    return "\n\n".join(blocks)


def build_prompt(
    question: str, passages: list[Passage] | tuple[Passage, ...], language: str, settings: Settings
) -> Prompt:
    """Render the system and answer templates for ``question`` over the packed ``passages``."""
    packed = pack_passages(passages, settings.context_tokens)
    values = {
        "context": format_context(packed),
        "question": question.strip(),
        "language_name": LANGUAGE_NAMES.get(language, "English"),
    }
    try:
        system = Template(load_template("system.txt", settings)).substitute(values).strip()
        user = Template(load_template("answer.txt", settings)).substitute(values).strip()
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"bad placeholder in a prompt template in {templates(settings)}: {exc}") from None
    return Prompt(system=system, user=user, passages=tuple(packed))
