"""``voxwatch demo --no-dashboard`` as a user runs it: twice, offline, same result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "voxwatch", "demo", "--no-dashboard", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def counts(db: Path) -> tuple[int, ...]:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM scores), "
            "(SELECT count(*) FROM cases), (SELECT count(*) FROM audit_log)"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_demo_prints_a_summary_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "collected mentions" in first.stdout and "36" in first.stdout
    assert "routed to sara" in first.stdout
    db = tmp_path / "voxwatch.duckdb"
    after_first = counts(db)
    assert after_first[0] == 36 and after_first[2] > 0

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "scored 0; routed 0" in second.stdout
    assert counts(db) == after_first
