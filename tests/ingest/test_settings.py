"""Settings changed by CLI flags are checked as strictly as settings read from RAG_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import load_settings, replace
from rag.errors import ConfigError
from tests.conftest import run_rag


@pytest.mark.parametrize(
    "changes",
    [{"chunk_tokens": 0}, {"chunk_overlap": -5}, {"top_k": 0}, {"hnsw_ef_search": 0}, {"answer_coverage": 1.5}],
)
def test_replace_checks_like_load_settings(changes: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        replace(load_settings(env={}), **changes)


def test_ingest_refuses_a_bad_chunk_size_before_writing(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    res = run_rag("ingest", "--chunk-tokens", "0", "--index", str(index_dir), "--quiet")
    assert res.returncode == 2, res.stderr
    assert "chunk_tokens" in res.stderr and "Traceback" not in res.stderr
    assert not (index_dir / "CURRENT").exists()


@pytest.mark.parametrize("port", ["99999", "-5"])
def test_serve_refuses_a_port_out_of_range(port: str) -> None:
    res = run_rag("serve", "--port", port, "--index", "/nonexistent/index")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == f"rag serve: error: port must be between 1 and 65535, not {port}"


@pytest.mark.parametrize(
    "url", ["http://[::1", "ftp://llm.example/v1", "http://host:port/v1", "llm.local:8000", "http://user:s3cret@/v1"]
)
def test_an_llm_url_that_cannot_be_requested_is_refused_without_repeating_it(url: str) -> None:
    """Once the service started and answered every question with a 500 (and /readyz too)."""
    with pytest.raises(ConfigError, match="RAG_OPENAI_BASE_URL must be an http:// or https:// URL") as err:
        load_settings(env={"RAG_OPENAI_BASE_URL": url})
    assert url not in err.value.message and "s3cret" not in err.value.message


def test_llm_urls_with_ports_paths_and_credentials_are_accepted() -> None:
    env = {
        "RAG_OPENAI_BASE_URL": "https://user:pw@llm.example:8443/openai/v1",
        "RAG_OLLAMA_BASE_URL": "http://[::1]:11434",
        "RAG_ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    }
    settings = load_settings(env=env)
    assert settings.ollama_base_url == "http://[::1]:11434"
