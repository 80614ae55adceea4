"""bench/instructions.py keeps working as the pages change: its seeding and each page's run (without
valgrind, which only counts them) answer 200 everywhere, and a toggle leaves the cell as it found it."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "instructions.py"


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="the bench runs on its own SQLite file: once is enough")
def test_the_instruction_bench_runs_every_page(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "--seed", str(tmp_path)], check=True, capture_output=True)
    key = (tmp_path / "cell").read_text()
    with sqlite3.connect(tmp_path / "bench.db") as conn:
        lines = conn.execute("SELECT COUNT(*) FROM basket_line").fetchone()[0]
    done = subprocess.run([sys.executable, str(SCRIPT), "--child", str(tmp_path), "--requests", "2"],
                          capture_output=True, text=True)  # every page, as callgrind runs them one by one
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(tmp_path / "bench.db") as conn:  # ticked and unticked: the basket as it was
        assert conn.execute("SELECT COUNT(*) FROM basket_line").fetchone()[0] == lines
    assert key.endswith(":2026-12-07")
