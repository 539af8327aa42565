"""Every script under evals/ and bench/ imports: a module moved inside rag/ must not break a
benchmark that only `make bench` runs (and CI does not)."""

from __future__ import annotations

import subprocess
import sys

from rag.config import PROJECT_ROOT

CHECK = r"""
import importlib.util, sys
from pathlib import Path
root = Path(sys.argv[1])
sys.path[:0] = [str(root), str(root / "evals")]
failed = []
for path in sorted([*root.glob("evals/*.py"), *root.glob("bench/*.py")]):
    name = ("bench." if path.parent.name == "bench" else "") + path.stem
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except Exception as exc:
        failed.append(f"{path.relative_to(root)}: {type(exc).__name__}: {exc}")
print("\n".join(failed))
"""


def test_every_eval_and_bench_script_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(PROJECT_ROOT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", done.stdout
