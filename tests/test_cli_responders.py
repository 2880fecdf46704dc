"""The care team's command line (lint, route, cases, templates), run in-process as a user runs it.

Typer's ``CliRunner`` invokes the real app: our errors still become exit status 2
and one line on stderr (``VoxWatchGroup``), so these see what a user sees. Each
test gets its own Acme team and DuckDB file, with cases routed by the real stages
(tests/builders.py), instead of a shared copy of the demo week. Only the ``route``
tests (``test_route_explain_prints_the_whole_decision`` and
``test_an_urgent_complaint_is_due_before_a_mild_one``) load the real model.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.builders import Post, case_ids, issue_tokens, seed_posts, write_team_settings
from voxwatch.cli import app
from voxwatch.cli.identity import TOKEN_ENV
from voxwatch.settings import Settings
from voxwatch.store import store_for

THIRD_TIME = (
    "This is the third time I report this. Three orders paid, zero delivered, and support keeps "
    "ignoring me. If nobody fixes it today I'll post this everywhere and go to the press."
)


def voxwatch(*args: str, stdin: str | None = None, token: str | None = None) -> Result:
    """``voxwatch ARGS`` in-process, on a wide terminal, with ``stdin`` as standard input.

    ``token`` is the acting person's proof, as $VOXWATCH_TOKEN (None: the variable is unset).
    """
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200", TOKEN_ENV: token})


@pytest.fixture
def config(team: Settings, tmp_path: Path) -> str:
    """The team's settings file, its store holding one urgent complaint routed to sara."""
    path = write_team_settings(tmp_path)
    seed_posts(store_for(team), team, [Post(THIRD_TIME, author="wendy")])
    return str(path)


def test_lint_prints_one_json_finding_per_line_and_exits_1(tmp_path: Path) -> None:
    text = "Calm down. That's not our problem, nothing we can do."
    draft = tmp_path / "draft.txt"
    draft.write_text(text, encoding="utf-8")
    result = voxwatch("lint", "--lang", "en", str(draft))
    assert result.exit_code == 1
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    spans = [text[f["start"] : f["end"]] for f in findings if f["rule"] == "forbidden-phrase"]
    assert spans == ["Calm down", "That's not our problem", "nothing we can do"]
    assert all({"rule", "start", "end", "message"} <= f.keys() for f in findings)


def test_lint_reads_stdin_and_exits_0_when_clean() -> None:
    clean = "您好，非常抱歉给您带来不便。我们会在今天18:00前回复您处理进展。"
    clean_result = voxwatch("lint", "--lang", "zh", "-", stdin=clean)
    assert clean_result.exit_code == 0 and clean_result.stdout == ""
    dirty = voxwatch("lint", "--lang", "zh", "-", stdin="不知道，没有办法。")
    assert dirty.exit_code == 1
    assert {json.loads(line)["excerpt"] for line in dirty.stdout.splitlines()} >= {"不知道", "没有办法"}


def test_route_explain_prints_the_whole_decision(config: str, team: Settings) -> None:
    text = "Third time I report this and I'll go to the press if you don't fix my order."
    result = voxwatch("route", "--explain", "--config", config, text)
    assert result.exit_code == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["validity"] == "complaint" and decision["tier"] == "urgent"
    assert {"threat to go public", "repeat complaint (in text)"} <= set(decision["reasons"])
    assert (decision["rule"], decision["team"]) == ("escalate urgent", "escalations")
    assert decision["owner_if_all_idle"] == "sara" and decision["opens_case"] is True
    assert decision["first_response_due"] and decision["lang"] == "en"
    count = "SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM cases)"
    assert store_for(team).read(lambda conn: conn.execute(count).fetchone()) == (1, 1)  # a dry run


@pytest.mark.parametrize(
    "hours",
    [
        "",  # round the clock
        # a London office, whatever the clock change of the day
        '\n[sla.business_hours]\ntimezone = "Europe/London"\nstart = "09:00"\nend = "17:00"\n',
        # a 24/7 team in Sydney
        '\n[sla.business_hours]\ntimezone = "Australia/Sydney"\nstart = "00:00"\nend = "24:00"\n'
        "weekdays = [0, 1, 2, 3, 4, 5, 6]\n",
    ],
    ids=["no-calendar", "london-office", "sydney-24-7"],
)
def test_an_urgent_complaint_is_due_before_a_mild_one(tmp_path: Path, hours: str) -> None:
    path = str(write_team_settings(tmp_path, hours))
    urgent = voxwatch("route", "--explain", "--config", path, THIRD_TIME)
    mild = voxwatch("route", "--explain", "--config", path, "My Acme parcel came a day late, a bit annoying.")
    assert urgent.exit_code == 0 and mild.exit_code == 0, urgent.stderr + mild.stderr
    fast, slow = json.loads(urgent.stdout), json.loads(mild.stdout)
    assert (fast["tier"], slow["tier"]) == ("urgent", "normal"), (fast["reasons"], slow["reasons"])
    fast_due = datetime.fromisoformat(fast["first_response_due"])
    slow_due = datetime.fromisoformat(slow["first_response_due"])
    assert fast_due.utcoffset() is not None and slow_due.utcoffset() is not None
    assert fast_due < slow_due


def test_route_exits_2_naming_a_model_that_will_not_load(team: Settings, tmp_path: Path) -> None:
    path = write_team_settings(tmp_path, '\n[model]\nname = "/nonexistent/model"\n')
    result = voxwatch("route", "--config", str(path), "my order never arrived")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "cannot load sentiment model '/nonexistent/model'" in " ".join(result.stderr.split())


def urgent_case(config: str) -> str:
    listed = json.loads(voxwatch("cases", "list", "--json", "--config", config, "--owner", "sara").stdout)
    return next(c["id"] for c in listed if c["excerpt"].startswith("This is the third time"))


def test_cases_commands_walk_a_case_and_refuse_self_approval(config: str, team: Settings) -> None:
    tokens = issue_tokens(team)
    sara, maya = tokens["sara"], tokens["maya"]
    case_id = urgent_case(config)
    drafted = voxwatch("cases", "draft", case_id, "--as", "sara", "--config", config, token=sara)
    assert drafted.exit_code == 0, drafted.stderr
    assert json.loads(drafted.stdout)["findings"] == []
    assert voxwatch("cases", "submit", case_id, "--as", "sara", "--config", config, token=sara).exit_code == 0
    self_approval = voxwatch("cases", "approve", case_id, "--as", "sara", "--config", config, token=sara)
    assert self_approval.exit_code == 2
    assert "cannot approve it" in self_approval.stderr and "Traceback" not in self_approval.stderr
    assert self_approval.stderr.count("\n") <= 2  # one message, at most wrapped once
    assert (
        voxwatch("cases", "approve", case_id, "--as", "maya", "--config", config, token=maya).exit_code == 0
    )
    assert voxwatch("cases", "send", case_id, "--as", "sara", "--config", config, token=sara).exit_code == 0
    stale = voxwatch("cases", "send", case_id, "--as", "sara", "--config", config, token=sara)
    assert stale.exit_code == 2 and "cannot send" in stale.stderr  # queued once
    link = "https://social.example/@acme/8"
    recorded = voxwatch("cases", "reply-link", case_id, link, "--as", "sara", "--config", config, token=sara)
    assert recorded.exit_code == 0, recorded.stderr
    shown = json.loads(voxwatch("cases", "show", case_id, "--config", config).stdout)
    assert shown["status"] == "sent" and shown["first_response_at"] and shown["reply_url"] == link
    actions = [a["action"] for a in shown["audit"]][-5:]
    assert actions == ["drafted", "submitted", "approved", "sent", "published"]


def test_the_urgent_case_is_listed_for_its_owner_only(config: str, team: Settings) -> None:
    (routing,) = seed_posts(store_for(team), team, [Post("My latte was cold.", 0.8)])
    urgent = json.loads(voxwatch("cases", "list", "--json", "--config", config, "--owner", "sara").stdout)
    assert [c["author"] for c in urgent] == ["wendy"]
    others = json.loads(voxwatch("cases", "list", "--json", "--config", config, "--team", "care").stdout)
    assert [c["id"] for c in others] == case_ids([routing])


def test_templates_render_in_chinese() -> None:
    result = voxwatch("templates", "render", "first_response", "--lang", "zh", "--customer", "王女士")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("王女士您好") and "前给您答复" in result.stdout
    assert "lint" not in result.stdout


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        (None, "acting as maya needs proof: set $VOXWATCH_TOKEN to maya's personal token"),
        ("", "acting as maya needs proof"),
        ("vxw_not-a-real-token", "the token given is not a valid token of maya"),
        ("sara", "the token given is not a valid token of maya"),  # sara's own token, posing as maya
    ],
)
def test_four_eyes_hold_on_the_command_line_without_proof_nothing_changes(
    config: str, team: Settings, token: str | None, refusal: str
) -> None:
    """Without proof, sara could approve her own draft by typing ``--as maya``: refused, case unchanged."""
    tokens = issue_tokens(team)
    case_id = urgent_case(config)
    for step in ("draft", "submit"):
        assert (
            voxwatch(
                "cases", step, case_id, "--as", "sara", "--config", config, token=tokens["sara"]
            ).exit_code
            == 0
        )
    before = voxwatch("cases", "show", case_id, "--config", config).stdout
    given = tokens["sara"] if token == "sara" else token
    result = voxwatch("cases", "approve", case_id, "--as", "maya", "--config", config, token=given)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert refusal in " ".join(result.stderr.split())
    assert voxwatch("cases", "show", case_id, "--config", config).stdout == before
