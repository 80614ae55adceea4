"""The house rules that keep the code readable, checked on every run: the import-linter contracts of
pyproject.toml (layers, no Flask in services, no cycles), short modules, a short app.py, and no private
helper borrowed from another module."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app.py", "cli.py", "config.py", "jobs.py", "web", "blueprints", "services", "models", "bench")
GENERATED = {"migrations/001_baseline.py"}  # the frozen schema of the first release


def _modules():
    for entry in PACKAGES:
        path = ROOT / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))
    yield from sorted((ROOT / "migrations").glob("*.py"))


def test_import_contracts_hold():
    """Layers point down, services and models know nothing of Flask, no import cycle at any depth."""
    run = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
                          "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_no_module_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > 500 and str(p.relative_to(ROOT)) not in GENERATED}
    assert not long, long


def test_app_py_is_a_table_of_contents():
    assert len((ROOT / "app.py").read_text().splitlines()) < 150


def test_no_private_name_is_imported_from_another_module():
    """A helper used by two modules is public, in one place (`from x import _helper` is refused)."""
    borrowed = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in (
                    "blueprints", "services", "models", "web", "jobs", "config", "cli"):
                borrowed += [f"{path.relative_to(ROOT)}: {node.module}.{alias.name}"
                             for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not borrowed, borrowed
