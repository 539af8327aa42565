"""How refusal holds as the collection shrinks: the relevance model over a share of a benchmark corpus.

    python evals/corpus_size.py --dataset tydi xquad --shares 1 0.1 0.03

For each share, the documents whose stable position (the SHA-1 rule of ``rag eval --leave-out``)
falls below it form the corpus. Their answerable questions are asked over that corpus and over the
full one (the same questions both times), and the questions of the next documents in that order
(position in [share, 2 * share), whose paragraphs are not in the small corpus) are asked over it
as unanswerable ones. Each question is answered up to the refusal step the way the service does it
(hybrid search, top 5, the context packed for the prompt, the packaged relevance model).

Prints, per dataset and share: documents, answerable questions, their false refusals over the
small corpus and over the full corpus, the refusals of the unanswerable questions, and the mean
share of question words the corpus never uses (the ``unseen`` signal). The relevance model is
fitted on the full corpora, so this measures what a team with a small collection would see.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.prompt import pack_passages  # noqa: E402
from rag.answer.relevance import model_for, sentence_rows  # noqa: E402
from rag.answer.signals import FEATURES  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.embed import get_embedder  # noqa: E402
from rag.evals.corpus import default_cache_root, doc_position, load_dataset, open_corpus  # noqa: E402
from rag.evals.dataset import EvalQuestion  # noqa: E402
from rag.search.retrieve import Retriever  # noqa: E402

UNSEEN = FEATURES.index("unseen")


def refused(retriever: Retriever, q: EvalQuestion, settings, model) -> tuple[bool, float]:
    """Whether the service would refuse ``q`` over ``retriever``'s corpus, and the question's unseen share."""
    context = pack_passages(retriever.search(q.question, 5, mode=settings.search_mode), settings.context_tokens)
    sentences, rows = sentence_rows(q.question, context, retriever.embedder, retriever.lexical)
    if not sentences:
        return True, 0.0
    return bool(model.logits(rows).max() < settings.refusal_threshold), float(rows[0, UNSEEN])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", nargs="+", default=["tydi", "xquad"], help="SQuAD-format datasets (rag eval names)")
    ap.add_argument("--shares", nargs="+", type=float, default=[1.0, 0.1, 0.03], help="shares of the documents kept")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    if any(not 0 < s <= 1 for s in args.shares):
        ap.error("--shares must lie in (0, 1]")
    settings = load_settings()
    embedder = get_embedder(settings.embedder)
    model = model_for(embedder.name)
    cache = default_cache_root()
    print(
        "| dataset | share | documents | answerable | false refusals (full corpus) | unanswerable refused "
        "| unseen share |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.dataset:
        full = load_dataset(name, settings)
        if not full.documents:
            ap.error(f"{name} has no corpus of its own (a SQuAD-format dataset is needed)")
        whole = open_corpus(full, settings, embedder, cache, not args.no_progress)
        for share in args.shares:
            kept = [d for d in full.documents if doc_position(d.doc_id) < share]
            ids = {d.doc_id for d in kept}
            if share < 1:
                small = full.part(lambda doc_id, share=share: doc_position(doc_id) < share, f"share{share}")
                retriever = open_corpus(small, settings, embedder, cache, not args.no_progress)
            else:
                retriever = whole
            answerable = [q for q in full.questions if q.answerable and q.doc_id in ids]
            others = [q for q in full.questions if q.doc_id and share <= doc_position(q.doc_id) < 2 * share]
            fr, fr_full, rr, unseen = [], [], [], []
            for q in tqdm(answerable, desc=f"{name} {share}", disable=args.no_progress, leave=False):
                r, u = refused(retriever, q, settings, model)
                fr.append(r)
                unseen.append(u)
                fr_full.append(refused(whole, q, settings, model)[0])
            for q in tqdm(others, desc=f"{name} {share} unanswerable", disable=args.no_progress, leave=False):
                rr.append(refused(retriever, q, settings, model)[0])
            rr_text = f"{np.mean(rr):.3f} ({len(rr)})" if rr else "–"
            print(
                f"| {name} | {share:g} | {len(kept)} | {len(answerable)} | {np.mean(fr):.3f} ({np.mean(fr_full):.3f}) "
                f"| {rr_text} | {np.mean(unseen):.3f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
