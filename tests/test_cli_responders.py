"""The care team's command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_demo


def voxwatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxwatch", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"COLUMNS": "200"},
    )


@pytest.fixture
def config(demo_run: tuple[Path, dict], tmp_path: Path) -> str:
    return str(copy_demo(demo_run, tmp_path))


def test_lint_prints_one_json_finding_per_line_and_exits_1(tmp_path: Path) -> None:
    text = "Calm down. That's not our problem, nothing we can do."
    draft = tmp_path / "draft.txt"
    draft.write_text(text, encoding="utf-8")
    result = voxwatch("lint", "--lang", "en", str(draft))
    assert result.returncode == 1
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    spans = [text[f["start"] : f["end"]] for f in findings if f["rule"] == "forbidden-phrase"]
    assert spans == ["Calm down", "That's not our problem", "nothing we can do"]
    assert all({"rule", "start", "end", "message"} <= f.keys() for f in findings)


def test_lint_reads_stdin_and_exits_0_when_clean() -> None:
    clean = "您好，非常抱歉给您带来不便。我们会在今天18:00前回复您处理进展。"
    assert voxwatch("lint", "--lang", "zh", "-", stdin=clean).returncode == 0
    dirty = voxwatch("lint", "--lang", "zh", "-", stdin="不知道，没有办法。")
    assert dirty.returncode == 1
    assert {json.loads(line)["excerpt"] for line in dirty.stdout.splitlines()} >= {"不知道", "没有办法"}


def test_route_explain_prints_the_whole_decision(config: str) -> None:
    text = "Third time I report this and I'll go to the press if you don't fix my order."
    result = voxwatch("route", "--explain", "--config", config, text)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["validity"] == "complaint" and decision["tier"] == "urgent"
    assert {"threat to go public", "repeat complaint (in text)"} <= set(decision["reasons"])
    assert (decision["rule"], decision["team"]) == ("urgent-to-escalations", "escalations")
    assert decision["first_response_due"] and decision["lang"] == "en"


def test_cases_commands_walk_a_case_and_refuse_self_approval(config: str) -> None:
    listed = json.loads(voxwatch("cases", "list", "--json", "--config", config, "--owner", "sara").stdout)
    case_id = next(c["id"] for c in listed if c["excerpt"].startswith("This is the third time"))
    drafted = voxwatch("cases", "draft", case_id, "--as", "sara", "--config", config)
    assert drafted.returncode == 0, drafted.stderr
    assert json.loads(drafted.stdout)["findings"] == []
    assert voxwatch("cases", "submit", case_id, "--as", "sara", "--config", config).returncode == 0
    self_approval = voxwatch("cases", "approve", case_id, "--as", "sara", "--config", config)
    assert self_approval.returncode == 2
    assert "cannot approve it" in self_approval.stderr and "Traceback" not in self_approval.stderr
    assert voxwatch("cases", "approve", case_id, "--as", "maya", "--config", config).returncode == 0
    assert voxwatch("cases", "send", case_id, "--as", "sara", "--config", config).returncode == 0
    shown = json.loads(voxwatch("cases", "show", case_id, "--config", config).stdout)
    assert shown["status"] == "sent" and shown["first_response_at"]
    assert [a["action"] for a in shown["audit"]][-4:] == ["drafted", "submitted", "approved", "sent"]


def test_templates_render_in_chinese() -> None:
    result = voxwatch("templates", "render", "first_response", "--lang", "zh", "--customer", "王女士")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("王女士您好") and "前给您答复" in result.stdout
    assert "lint" not in result.stdout
