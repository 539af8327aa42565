"""Resolve a dataset name to its questions and corpus, and index that corpus for the eval.

Datasets: ``seed`` (evals/seed_questions.jsonl over seeds/), ``xquad`` (settings.xquad_path), a
``.json`` file in SQuAD layout (paragraphs are the corpus, answer spans the facts), or a ``.jsonl``
question file (corpus: the paths given with ``--corpus``, else the existing index).

The corpus is indexed into a cache directory (one per dataset, embedder and vector index kind),
updated incrementally: a second run re-embeds nothing unless the corpus or chunking changed.
Embedding XQuAD's 240 paragraphs is most of a cold run's time. Because chunk text also depends on
the loading and chunking code, not only on the settings, the cache is rebuilt whenever those
source files change (a fingerprint of them is kept beside the index).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import PROJECT_ROOT, Settings, replace
from rag.embed import Embedder
from rag.errors import InputError
from rag.evals.dataset import EvalQuestion, check_questions, load_questions
from rag.evals.squad import load_squad
from rag.ingest.pipeline import ingest_paths, update_index
from rag.search.retrieve import Retriever, open_retriever
from rag.types import Document

SEED_QUESTIONS = PROJECT_ROOT / "evals" / "seed_questions.jsonl"
SEED_CORPUS = PROJECT_ROOT / "seeds"


@dataclass
class Dataset:
    """Questions plus where their corpus comes from (documents, paths, or the existing index)."""

    name: str
    path: Path
    questions: list[EvalQuestion]
    documents: list[Document] = field(default_factory=list)
    corpus_paths: list[Path] = field(default_factory=list)


def dataset_path(spec: str, settings: Settings) -> tuple[str, Path]:
    """The dataset's short name (the thresholds table) and its file."""
    if spec == "seed":
        return "seed", SEED_QUESTIONS
    if spec == "xquad":
        return "xquad", settings.xquad_path
    path = Path(spec)
    return path.stem, path


def load_dataset(spec: str, settings: Settings, corpus: list[Path] | None = None) -> Dataset:
    """Read the questions (and, for SQuAD, the paragraphs) of a dataset."""
    name, path = dataset_path(spec, settings)
    if not path.exists():
        raise InputError(f"dataset {spec!r} not found at {path}")
    if path.suffix == ".json":
        docs, squad = load_squad(path)
        questions = [
            EvalQuestion(
                q.qid, q.question, True, (q.answers,), lang="ru", section=q.doc_id.split("/")[0], doc_id=q.doc_id
            )
            for q in squad
        ]
        return Dataset(name, path, questions, documents=docs)
    questions = load_questions(path)
    paths = corpus if corpus else ([SEED_CORPUS] if name == "seed" else [])
    return Dataset(name, path, questions, corpus_paths=paths)


def cache_dir(root: Path, dataset: Dataset, settings: Settings, embedder: Embedder) -> Path:
    """Where this dataset's index is kept between runs."""
    kind = settings.vector_index + ("" if settings.sentence_vectors else "-nosent")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{dataset.name}-{embedder.name}-{kind}")
    return root / slug


def code_fingerprint() -> str:
    """A hash of the modules that decide what gets indexed (loading, chunking, indexing)."""
    import rag.ingest.chunk
    import rag.ingest.load
    import rag.ingest.loaders
    import rag.ingest.pipeline
    import rag.text.sentences

    loaders = sorted(Path(str(rag.ingest.loaders.__file__)).parent.glob("*.py"))
    h = hashlib.sha256()
    for module in (rag.ingest.load, rag.text.sentences, rag.ingest.chunk, rag.ingest.pipeline):
        h.update(Path(str(module.__file__)).read_bytes())
    for path in loaders:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def open_corpus(
    dataset: Dataset, settings: Settings, embedder: Embedder, cache_root: Path, progress: bool
) -> Retriever:
    """Index the dataset's corpus (incrementally, in the cache) and open a retriever on it."""
    if not dataset.documents and not dataset.corpus_paths:
        return open_retriever(settings, embedder)  # a question file over the configured index
    s = replace(settings, index_dir=cache_dir(cache_root, dataset, settings, embedder))
    stamp = s.index_dir / "eval-fingerprint"
    fingerprint = code_fingerprint()
    rebuild = not stamp.exists() or stamp.read_text(encoding="utf-8") != fingerprint
    if dataset.documents:
        keep = {d.doc_id for d in dataset.documents}
        update_index(s, embedder, add=dataset.documents, keep_only=keep, rebuild=rebuild, progress=progress)
    else:
        report = ingest_paths(dataset.corpus_paths, s, embedder, progress=progress, rebuild=rebuild)
        if report.errors:
            raise InputError(f"corpus for {dataset.name}: {report.errors[0].message}")
    stamp.write_text(fingerprint, encoding="utf-8")
    return open_retriever(s, embedder)


def corpus_problems(dataset: Dataset, retriever: Retriever) -> list[str]:
    """Checks of a question file against the indexed text (quotes present, variants in quotes)."""
    if dataset.documents:
        return []
    text = "\n".join(_document_texts(retriever))
    return check_questions(dataset.questions, text)


def _document_texts(retriever: Retriever) -> list[str]:
    # Rebuild each document from its chunks (chunks are exact slices with start offsets), so a
    # quote that crosses a chunk boundary is still found.
    docs: dict[str, str] = {}
    for c in sorted(retriever.chunks, key=lambda c: (c.doc_id, c.start)):
        prev = docs.get(c.doc_id, "")
        if c.start <= len(prev):
            docs[c.doc_id] = prev + c.text[len(prev) - c.start :]
        else:
            docs[c.doc_id] = prev.ljust(c.start) + c.text
    return list(docs.values())
