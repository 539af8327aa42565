"""What an ingest run did: the report `rag ingest` prints and the API returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.errors import DocumentError


@dataclass
class IngestReport:
    """What an ingest run did."""

    documents: int = 0  # documents in the index afterwards
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_chunks: int = 0
    errors: list[DocumentError] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""

    def summary(self) -> str:
        """One line for the end of `rag ingest`."""
        return (
            f"{self.documents} documents, {self.chunks} chunks in {self.seconds:.1f}s "
            f"({len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; {self.embedded_chunks} chunks embedded; {len(self.errors)} skipped)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "embedded_chunks": self.embedded_chunks,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
            "version": self.version,
        }
