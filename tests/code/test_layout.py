"""The package layout draws the data flow: no module imports a stage that consumes its output."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "rag"

# Lower rank = earlier in the flow. A module may import its own stage and any lower-ranked one.
# ingest writes into the store and search reads from it, so the store sits below both.
RANKS = {
    "config": 0,
    "errors": 0,
    "registry": 0,
    "validate": 0,
    "types": 0,
    "text": 0,
    "embed": 1,
    "store": 2,
    "ingest": 3,
    "search": 3,
    "answer": 4,
    "evals": 5,
    "api": 6,
    "cli": 7,
    "__main__": 8,
    "__init__": 0,
    "widget": 0,
}
SIBLINGS_APART = {("ingest", "search"), ("search", "ingest")}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "rag":
                out.extend(f"rag.{a.name}" for a in node.names)
            elif node.module.startswith("rag."):
                out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names if a.name.startswith("rag."))
    return out


MODULES = sorted(p for p in ROOT.rglob("*.py"))


def test_every_stage_has_a_rank() -> None:
    stages = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in MODULES}
    assert stages <= set(RANKS), stages - set(RANKS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_from_a_later_stage(path: Path) -> None:
    own = path.relative_to(ROOT).parts[0].removesuffix(".py")
    for module in _imports(path):
        target = _stage(module)
        assert RANKS[target] <= RANKS[own], f"{path.name} ({own}) imports {module} ({target}), a later stage"
        assert (own, target) not in SIBLINGS_APART, f"{path.name} ({own}) imports {module}"


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The import scan finds a later-stage import written in any of the three forms."""
    f = tmp_path / "m.py"
    f.write_text("from rag.answer.pipeline import x\nimport rag.search.fuse\nfrom rag import api\n", encoding="utf-8")
    assert _imports(f) == ["rag.answer.pipeline", "rag.search.fuse", "rag.api"]
