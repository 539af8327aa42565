"""Shared fixtures: settings pointing at throwaway indexes built from the real seed corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings, load_settings

SEEDS = PROJECT_ROOT / "seeds"


def run_rag(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m rag ARGS` in a child process, as a user runs it: the hashing embedder, no other
    RAG_* settings from the caller's environment, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "RAG_EMBEDDER": "hashing"},
        timeout=timeout,
    )


def make_settings(index_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the caller's RAG_* environment, with ``index_dir`` and overrides."""
    return load_settings(env={}, index_dir=index_dir, **overrides)


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index is seeds/ embedded with the default e5-small embedder (built once)."""
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths

    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    ingest_paths([SEEDS], settings, get_embedder(settings.embedder), progress=False)
    return settings


@pytest.fixture(scope="session")
def seed_retriever(seed_settings: Settings):  # type: ignore[no-untyped-def]
    """A Retriever over the seed index."""
    from rag.search.retrieve import open_retriever

    return open_retriever(seed_settings)


@pytest.fixture
def hashing_settings(tmp_path: Path) -> Settings:
    """Settings for a fresh, empty index in tmp_path using the deterministic hashing embedder."""
    return make_settings(tmp_path / "index", embedder="hashing")


def shared_path(relative: str) -> Path:
    """A path under ../shared; skips the test when missing, but fails under CI (CI=true)."""
    path = PROJECT_ROOT.parent / "shared" / relative
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing; CI must provide ../shared")
        pytest.skip(f"{path} not found (the shared benchmarks sit beside the repo in CI only)")
    return path


SEED_FILE = SEEDS / "kazakhstan-uzbekistan.ru.txt"
SEED_TITLE = "Как выстраивается политический диалог"


@pytest.fixture(scope="session")
def seed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed article printed to PDF by headless Chromium, with its default header and footer."""
    from tests.docgen import article_html, print_pdfs
    from tests.widget.conftest import chromium_path

    chromium_path()  # skips without Chromium, fails under CI
    html = article_html(SEED_FILE.read_text(encoding="utf-8"), SEED_TITLE)
    return print_pdfs({"kazakhstan-uzbekistan.ru": html}, tmp_path_factory.mktemp("seed-pdf"))[
        "kazakhstan-uzbekistan.ru"
    ]


@pytest.fixture(scope="session")
def seed_pdf_settings(seed_pdf: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index is the seed article as a Chromium PDF, embedded with e5-small (built once)."""
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths

    settings = make_settings(tmp_path_factory.mktemp("seed-pdf-index"))
    report = ingest_paths([seed_pdf], settings, get_embedder(settings.embedder), progress=False)
    assert not report.errors, report.errors
    return settings
