"""`pip install` the package into a fresh venv outside the checkout, then `rag ingest` + `rag ask`.

The venv sees the project's dependencies through a path entry (nothing is downloaded) but not the
checkout: the installed ``rag`` must find its prompt templates through ``importlib.resources`` and
take its default paths from the working directory, a temporary folder here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.answer.llm_fakes import FakeLLM, LoopbackLLM

ROOT = Path(__file__).resolve().parents[2]
FACT = "В 2025 году в Ташкенте открыли пешеходный мост через канал Анхор длиной 120 метров."
QUESTION = "Какой длины мост через канал Анхор?"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv with the package installed from a wheel of the sources."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT / "rag", src / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    run = {"check": True, "capture_output": True, "text": True, "timeout": 300}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp / "wheel", src],
        **run,
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], **run)
    (wheel,) = (tmp / "wheel").glob("rag-*.whl")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], **run)
    # The dependencies come from this interpreter's site-packages: a plain path line, so that the
    # .pth files there (among them the editable install pointing at the checkout) are not run.
    purelib = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], **run
    ).stdout.strip()
    Path(purelib, "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv / "bin"


@pytest.fixture(scope="module")
def workdir(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the checkout with ./seeds holding a small corpus, ingested."""
    work = tmp_path_factory.mktemp("work")
    (work / "seeds").mkdir()
    (work / "seeds" / "bridge.txt").write_text(f"Мосты Ташкента\n\n{FACT}\n", encoding="utf-8")
    (work / "seeds" / "other.txt").write_text("Погода\n\nВ январе в Ташкенте выпал снег.\n", encoding="utf-8")
    out = _rag(installed, work, "ingest", "--quiet")
    assert out.returncode == 0, out.stderr
    assert (work / "index").is_dir()  # the default index directory is the working directory's
    return work


@pytest.fixture
def llm() -> Iterator[tuple[FakeLLM, LoopbackLLM]]:
    fake = FakeLLM()
    server = LoopbackLLM(fake)
    yield fake, server
    server.close()


def _rag(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "PYTHON"))}
    return subprocess.run(
        [bin_dir / "rag", *args], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=300
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = "import rag, importlib.resources as r; print(rag.__file__); print(r.files('rag') / 'prompts' / 'system.txt')"
    out = subprocess.run([installed / "python", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    module, template = out.stdout.split()
    assert not Path(module).is_relative_to(ROOT) and Path(template).is_file()


def test_extractive_answer_from_the_installed_package(installed: Path, workdir: Path) -> None:
    out = _rag(installed, workdir, "ask", QUESTION, "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert "120 метров" in answer["answer"] and answer["citations"][0]["doc_id"] == "bridge.txt"
    refused = json.loads(_rag(installed, workdir, "ask", "Сколько стоит билет на Луну?", "--json").stdout)
    assert refused["refused"] and refused["answer"] == "В документах нет ответа на этот вопрос."  # the shipped one


def test_llm_prompts_come_from_the_package_or_the_setting(
    installed: Path, workdir: Path, llm: tuple[FakeLLM, LoopbackLLM], tmp_path: Path
) -> None:
    fake, server = llm
    env = {"RAG_OPENAI_BASE_URL": server.url + "/v1", "RAG_LLM_RETRIES": "0"}
    out = _rag(installed, workdir, "ask", QUESTION, "--generator", "openai", "--json", **env)
    assert out.returncode == 0, out.stderr
    assert "120 метров" in json.loads(out.stdout)["answer"]
    system, user = (m["content"] for m in fake.requests[-1]["json"]["messages"])
    assert system == (ROOT / "rag" / "prompts" / "system.txt").read_text(encoding="utf-8").strip()
    assert user.startswith("Passages:") and QUESTION in user and "Answer in Russian" in user

    (tmp_path / "system.txt").write_text("CUSTOM SYSTEM", encoding="utf-8")
    (tmp_path / "answer.txt").write_text("Q: ${question}\n${context}", encoding="utf-8")
    out = _rag(installed, workdir, "ask", QUESTION, "--generator", "openai", RAG_PROMPTS_DIR=str(tmp_path), **env)
    assert out.returncode == 0, out.stderr
    system, user = (m["content"] for m in fake.requests[-1]["json"]["messages"])
    assert system == "CUSTOM SYSTEM" and user.startswith(f"Q: {QUESTION}\n[1]")
