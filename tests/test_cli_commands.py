"""Every ``voxwatch`` command, run in-process with Typer's ``CliRunner`` against real stores.

The command line is how a care team works without the dashboard, so each
command is checked for what it prints, what it changes in the store, and how it
refuses: our own errors must be exit status 2 with one ``error:`` line on stderr
and no traceback (``VoxWatchGroup``), exactly what a user sees. Cases come from
posts routed by the real stages (tests/builders.py); the heavy commands (run,
collect, serve, dashboard, score) are checked up to their fail-fast settings
check, which runs before Prefect, Streamlit or the model would start.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from tests.builders import Post, case_ids, issue_tokens, seed_posts, team_settings, write_team_settings
from tests.conftest import FIXTURES
from voxwatch.cli import app
from voxwatch.cli.identity import TOKEN_ENV
from voxwatch.passwords import hash_password, verify_password
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, store_for

THIRD_TIME = (
    "This is the third time I report this. Three orders paid, zero delivered, and support keeps "
    "ignoring me. If nobody fixes it today I'll post this everywhere and go to the press."
)
CLEAN_REPLY = (
    "Hi Tom, I'm sorry your coffee arrived cold. We will send a fresh one and get back to you "
    "within 24 hours."
)


def cli(*args: str, stdin: str | None = None, token: str | None = None) -> Result:
    """``voxwatch ARGS`` in-process on a wide terminal, with ``token`` as $VOXWATCH_TOKEN (None: unset)."""
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200", TOKEN_ENV: token})


def ok(*args: str, stdin: str | None = None, token: str | None = None) -> Result:
    result = cli(*args, stdin=stdin, token=token)
    assert result.exit_code == 0, result.stderr or result.stdout
    return result


def refused(*args: str, stdin: str | None = None, token: str | None = None) -> str:
    """Run a command that must be refused; its one error message, whitespace normalised."""
    result = cli(*args, stdin=stdin, token=token)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    return " ".join(result.stderr.split())


def actor_of(args: tuple[str, ...]) -> str | None:
    """The name after ``--as``, if any."""
    return args[args.index("--as") + 1] if "--as" in args else None


@dataclass(frozen=True)
class Desk:
    """A team's settings file, its routed cases by the author who wrote each post, everyone's token.

    Commands run with the token of whoever ``--as`` names, as a person would set
    $VOXWATCH_TOKEN to their own.
    """

    config: str
    cases: dict[str, str]
    tokens: dict[str, str]

    def show(self, author: str) -> dict[str, Any]:
        return json.loads(ok("cases", "show", self.cases[author], "--config", self.config).stdout)

    def run(self, *args: str, stdin: str | None = None) -> Result:
        return ok(*args, "--config", self.config, stdin=stdin, token=self.tokens.get(actor_of(args) or ""))

    def act(self, command: str, author: str, *args: str, stdin: str | None = None) -> Result:
        return self.run("cases", command, self.cases[author], *args, stdin=stdin)

    def refuse(self, command: str, author: str, *args: str) -> str:
        token = self.tokens.get(actor_of(args) or "")
        return refused("cases", command, self.cases[author], *args, "--config", self.config, token=token)


@pytest.fixture
def config(team: Settings, tmp_path: Path) -> str:
    return str(write_team_settings(tmp_path))


@pytest.fixture
def desk(team: Settings, config: str) -> Desk:
    """Posts routed: wang -> amy (zh, first), tom -> ben (care), wendy -> sara (urgent), a bot dismissed."""
    seed_posts(
        store_for(team),
        team,
        [
            Post(THIRD_TIME, author="wendy"),
            Post("My coffee arrived cold and the lid was broken.", 0.8, author="tom", minutes_ago=40),
            Post("外卖送到的时候已经洒了，太失望了。", 0.85, author="wang", lang="zh", minutes_ago=50),
            Post("Lovely staff, great coffee!", 0.05, author="fan"),
            Post("Buy cheap followers at spam.example now!!!", 0.7, author="bot"),
        ],
    )
    rows = json.loads(ok("cases", "list", "--json", "--config", config).stdout)
    rows += json.loads(ok("cases", "list", "--json", "--status", "dismissed", "--config", config).stdout)
    return Desk(config, {row["author"]: row["id"] for row in rows}, issue_tokens(team))


# --- check-config ----------------------------------------------------------------------


def test_check_config_says_what_the_file_configures(config: str, tmp_path: Path) -> None:
    out = " ".join(ok("check-config", "--config", config).stdout.split())
    assert out == (
        f"ok: 2 source(s), 6 responder(s), 1 routing rule(s); store {tmp_path / 'voxwatch.duckdb'}"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("capacity = 15", 'capacity = "lots"', "responders.0.capacity"),
        (
            'default_team = "care"',
            'default_team = "care"\nnegative_threshold = 1.5',
            "routing.negative_threshold",
        ),
        ('[brand]\nname = "Acme"', '[brand]\nname = "Acme"\ncolour = "red"', "brand.colour"),
        ('name = "blog"', 'name = "blog', "is not valid TOML"),
        ("[store]", '[notifications]\nsmtp_password = "hunter2"\n\n[store]', "notifications.smtp_password"),
    ],
)
def test_check_config_names_the_broken_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = write_team_settings(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    message = refused("check-config", "--config", str(path))
    assert expected in message and str(path) in message


def test_check_config_on_a_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert f"cannot read settings file {missing}" in refused("check-config", "--config", str(missing))


def test_config_comes_from_the_environment_when_no_option_is_given(config: str) -> None:
    result = CliRunner().invoke(app, ["check-config"], env={"VOXWATCH_CONFIG": config})
    assert result.exit_code == 0 and "6 responder(s)" in result.stdout


# --- cases list / show -------------------------------------------------------------------


def test_cases_list_json_is_open_cases_most_urgent_first(desk: Desk) -> None:
    rows = json.loads(ok("cases", "list", "--json", "--config", desk.config).stdout)
    assert rows[0]["author"] == "wendy"
    assert {r["author"] for r in rows} == {"wendy", "tom", "wang"}
    assert [r["first_response_due"] for r in rows] == sorted(r["first_response_due"] for r in rows)
    assert {(r["author"], r["owner"], r["team"], r["tier"]) for r in rows} == {
        ("wendy", "sara", "escalations", "urgent"),
        ("tom", "ben", "care", "normal"),
        ("wang", "amy", "care", "normal"),
    }


@pytest.mark.parametrize(
    ("option", "value", "authors"),
    [
        ("--owner", "amy", {"wang"}),
        ("--owner", "maya", set()),
        ("--team", "care", {"tom", "wang"}),
        ("--team", "escalations", {"wendy"}),
        ("--status", "dismissed", {"bot"}),
        ("--status", "closed", set()),
    ],
)
def test_cases_list_filters(desk: Desk, option: str, value: str, authors: set[str]) -> None:
    rows = json.loads(ok("cases", "list", "--json", option, value, "--config", desk.config).stdout)
    assert {r["author"] for r in rows} == authors


def test_cases_list_table_shows_every_open_case_by_number(desk: Desk) -> None:
    result = CliRunner().invoke(app, ["cases", "list", "--config", desk.config], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    shown = {line.split()[0] for line in result.stdout.splitlines()[1:]}
    for author in ("wendy", "tom", "wang"):
        assert f"VW-{desk.show(author)['number']}" in shown
    assert f"VW-{desk.show('bot')['number']}" not in shown


def test_cases_show_returns_mention_triage_and_audit(desk: Desk) -> None:
    shown = desk.show("wendy")
    assert shown["text"] == THIRD_TIME and shown["status"] == "assigned"
    assert shown["validity"] == "complaint" and shown["rule"] == "escalate urgent"
    assert "threat to go public" in shown["reasons"]
    assert [a["action"] for a in shown["audit"]][:2] == ["collected", "scored"]
    assert shown["draft"] is None and shown["handoffs"] == []


def test_unknown_case_is_refused_by_every_case_command(desk: Desk) -> None:
    assert refused("cases", "show", "case-nope", "--config", desk.config) == "error: no case 'case-nope'"
    message = refused(
        "cases", "send", "case-nope", "--as", "sara", "--config", desk.config, token=desk.tokens["sara"]
    )
    assert "no case 'case-nope'" in message


# --- walking a case ------------------------------------------------------------------------


def test_a_case_walks_from_assignment_to_close_reopen_and_dismissal(desk: Desk, tmp_path: Path) -> None:
    assert "assigned to amy" in desk.act("assign", "tom", "--as", "grace", "--to", "amy").stdout
    assert desk.show("tom")["owner"] == "amy"
    assert "assigned to ben" in desk.act("assign", "tom", "--as", "ben").stdout  # claim
    desk.act("handoff", "tom", "--as", "ben", "--reason", "needs a refund decision", "--team", "escalations")
    shown = desk.show("tom")
    assert (shown["team"], shown["owner"], shown["first_owner"]) == ("escalations", "sara", "ben")
    (handoff,) = shown["handoffs"]
    assert (handoff["from_team"], handoff["to_team"], handoff["from_owner"], handoff["to_owner"]) == (
        "care",
        "escalations",
        "ben",
        "sara",
    )

    rude = tmp_path / "rude.txt"
    rude.write_text("Calm down. We will look at it.", encoding="utf-8")
    drafted = json.loads(desk.act("draft", "tom", "--as", "sara", "--body-file", str(rude)).stdout)
    assert "forbidden-phrase" in {f["rule"] for f in drafted["findings"]}
    assert "fix the linter's findings first" in desk.refuse("submit", "tom", "--as", "sara")

    templated = json.loads(desk.act("draft", "tom", "--as", "sara").stdout)
    assert templated["findings"] == [] and templated["body"].startswith("Hi tom")
    assert templated["template_key"] == "first_response/en@v1"
    desk.act("submit", "tom", "--as", "sara")
    assert desk.show("tom")["status"] == "pending_approval"
    desk.act("reject", "tom", "--as", "maya", "--comment", "say what we will refund")
    shown = desk.show("tom")
    assert shown["status"] == "drafting" and shown["draft"]["state"] == "rejected"

    from_stdin = json.loads(
        desk.act("draft", "tom", "--as", "sara", "--body-file", "-", stdin=CLEAN_REPLY).stdout
    )
    assert from_stdin["body"] == CLEAN_REPLY and from_stdin["findings"] == []
    desk.act("submit", "tom", "--as", "sara")
    desk.act("approve", "tom", "--as", "maya", "--comment", "good")
    assert desk.show("tom")["draft"]["state"] == "approved"
    sent = desk.act("send", "tom", "--as", "sara")
    assert "post by hand" in sent.stdout and "reply-link" in sent.stdout  # this source has no publisher
    shown = desk.show("tom")
    assert shown["status"] == "sent" and shown["first_response_at"] is None  # not public yet
    desk.act("reply-link", "tom", "https://social.example/@acme/7", "--as", "sara")
    shown = desk.show("tom")
    assert shown["reply_url"] == "https://social.example/@acme/7" and shown["first_response_at"]
    assert shown["draft"]["body"] == CLEAN_REPLY

    desk.act("follow-up", "tom", "--as", "sara", "--note", "fresh coffee arrived, customer happy")
    assert desk.show("tom")["followed_up_at"]
    desk.act("close", "tom", "--as", "sara")
    shown = desk.show("tom")
    assert shown["status"] == "closed" and shown["resolved_at"] and shown["follow_up_waived"] is None
    closed = json.loads(ok("cases", "list", "--json", "--status", "closed", "--config", desk.config).stdout)
    assert [r["id"] for r in closed] == [desk.cases["tom"]]

    desk.act("reopen", "tom", "--as", "grace", "--reason", "customer wrote again")
    shown = desk.show("tom")
    assert (shown["status"], shown["owner"], shown["resolved_at"]) == ("assigned", "sara", None)
    desk.act("dismiss", "tom", "--as", "grace", "--reason", "duplicate of another case")
    shown = desk.show("tom")
    assert (shown["status"], shown["dismissed_reason"]) == ("dismissed", "duplicate of another case")
    assert [(a["actor"], a["action"]) for a in shown["audit"] if a["actor"] != "system"] == [
        ("grace", "assigned"),
        ("ben", "assigned"),
        ("ben", "handed_off"),
        ("sara", "drafted"),
        ("sara", "drafted"),
        ("sara", "submitted"),
        ("maya", "rejected"),
        ("sara", "drafted"),
        ("sara", "submitted"),
        ("maya", "approved"),
        ("sara", "sent"),
        ("sara", "published"),
        ("sara", "followed_up"),
        ("sara", "closed"),
        ("grace", "reopened"),
        ("grace", "dismissed"),
    ]


def test_close_without_follow_up_needs_a_waiver_reason(desk: Desk) -> None:
    desk.act("draft", "wendy", "--as", "sara")
    desk.act("submit", "wendy", "--as", "sara")
    desk.act("approve", "wendy", "--as", "maya")
    desk.act("send", "wendy", "--as", "sara")
    assert "the follow-up is not done" in desk.refuse("close", "wendy", "--as", "sara")
    desk.act("close", "wendy", "--as", "sara", "--waive-follow-up", "customer deleted the account")
    shown = desk.show("wendy")
    assert (shown["status"], shown["follow_up_waived"]) == ("closed", "customer deleted the account")


def test_self_approval_and_rejection_are_refused(desk: Desk) -> None:
    desk.act("draft", "wendy", "--as", "sara")
    desk.act("submit", "wendy", "--as", "sara")
    assert "sara wrote this draft and cannot approve it" in desk.refuse("approve", "wendy", "--as", "sara")
    assert "cannot approve it" in desk.refuse("reject", "wendy", "--as", "sara", "--comment", "hmm")
    assert "sending a draft back needs a comment" in desk.refuse(
        "reject", "wendy", "--as", "maya", "--comment", " "
    )
    assert desk.show("wendy")["status"] == "pending_approval"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("assign", "--as", "erin", "--to", "ben"), "erin (executive) may not assign"),
        (("assign", "--as", "erin"), "erin is not a responder and cannot own cases"),
        (("assign", "--as", "grace", "--to", "maya"), "maya is not a responder and cannot own cases"),
        (("assign", "--as", "zed"), "no responder named 'zed' in settings"),
        (("draft", "--as", "maya"), "maya (approver) may not draft"),
        (("draft", "--as", "amy"), "only the owner (ben) drafts replies on this case"),
        (("approve", "--as", "amy"), "amy (responder) may not approve"),
        (("approve", "--as", "maya"), "cannot approve a case that is assigned"),
        (("submit", "--as", "ben"), "cannot submit a case that is assigned"),
        (("send", "--as", "ben"), "cannot send a case that is assigned"),
        (("follow-up", "--as", "ben", "--note", "x"), "cannot follow_up a case that is assigned"),
        (("close", "--as", "ben", "--waive-follow-up", "x"), "cannot close a case that is assigned"),
        (("reopen", "--as", "ben", "--reason", "x"), "cannot reopen a case that is assigned"),
        (("handoff", "--as", "ben", "--reason", " ", "--team", "escalations"), "a hand-off needs a reason"),
        (("handoff", "--as", "ben", "--reason", "x"), "say which team (--team) or person (--to) takes it"),
        (("handoff", "--as", "ben", "--reason", "x", "--team", "nowhere"), "no responders in team 'nowhere'"),
        (("handoff", "--as", "erin", "--reason", "x", "--team", "escalations"), "may not handoff"),
        (("dismiss", "--as", "ben", "--reason", " "), "dismissing needs a reason"),
        (("dismiss", "--as", "maya", "--reason", "spam"), "maya (approver) may not dismiss"),
    ],
)
def test_refused_actions_say_why_and_change_nothing(desk: Desk, args: tuple[str, ...], reason: str) -> None:
    before = desk.show("tom")
    command, *rest = args
    assert reason in desk.refuse(command, "tom", *rest)
    assert desk.show("tom") == before


def test_a_missing_required_option_is_a_usage_error(desk: Desk) -> None:
    result = cli("cases", "reject", desk.cases["tom"], "--as", "maya", "--config", desk.config, token="x")
    assert result.exit_code == 2 and "Missing option" in result.stderr and "--comment" in result.stderr


# --- authors ----------------------------------------------------------------------------------


def test_author_notes_are_shown_by_role_and_audited(desk: Desk, team: Settings) -> None:
    desk.run("authors", "note", "blog", "tom", "--as", "amy", "--note", "prefers oat milk")
    desk.run("authors", "note", "blog", "tom", "--as", "grace", "--note", "spoke to legal", "--confidential")
    seen_by_amy = json.loads(desk.run("authors", "show", "blog", "tom", "--as", "amy").stdout)
    assert [n["note"] for n in seen_by_amy["notes"]] == ["prefers oat milk"]
    assert (seen_by_amy["interactions"], seen_by_amy["latest_mood"]) == (1, "negative")
    assert seen_by_amy["mentions"][0]["case_id"] == desk.cases["tom"]
    seen_by_grace = json.loads(desk.run("authors", "show", "blog", "tom", "--as", "grace").stdout)
    assert [(n["note"], n["confidential"]) for n in seen_by_grace["notes"]] == [
        ("prefers oat milk", False),
        ("spoke to legal", True),
    ]
    audit = store_for(team).read(
        lambda conn: conn.execute(
            "SELECT actor, entity_id, action FROM audit_log WHERE entity = 'author' ORDER BY id"
        ).fetchall()
    )
    assert audit == [("amy", "blog:tom", "noted"), ("grace", "blog:tom", "noted")]


def test_an_unknown_author_has_an_empty_record(desk: Desk) -> None:
    view = json.loads(desk.run("authors", "show", "blog", "nobody", "--as", "grace").stdout)
    assert view == {
        "author": "nobody",
        "source": "blog",
        "mentions": [],
        "latest_mood": None,
        "interactions": 0,
        "notes": [],
    }


def test_author_commands_refuse_an_unknown_actor(desk: Desk) -> None:
    assert "no responder named 'zed'" in refused(
        "authors", "note", "blog", "tom", "--as", "zed", "--note", "x", "--config", desk.config
    )
    assert "no responder named 'zed'" in refused(
        "authors", "show", "blog", "tom", "--as", "zed", "--config", desk.config
    )


# --- templates and lint -------------------------------------------------------------------------


def test_templates_list_shows_every_situation_in_both_languages() -> None:
    result = CliRunner().invoke(app, ["templates", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    situations = ["apology_recovery", "closing", "first_response", "follow_up", "need_more_info", "resolved"]
    for situation in situations:
        for lang in ("en", "zh"):
            assert f"{situation}/{lang}@v1" in result.stdout


@pytest.mark.parametrize(
    ("lang", "opening", "promise"),
    [("en", "Hi Sam,", "Our brand"), ("zh", "Sam您好", "Our brand")],
)
def test_templates_render_fills_in_sample_values(lang: str, opening: str, promise: str) -> None:
    out = ok("templates", "render", "first_response", "--lang", lang).stdout
    assert out.startswith(opening) and promise in out and "{{" not in out
    assert "lint" not in out  # the shipped template passes its own linter


def test_templates_render_uses_the_given_names() -> None:
    out = ok(
        "templates", "render", "first_response", "--customer", "Dana", "--responder", "Lee", "--brand", "Acme"
    ).stdout
    assert out.startswith("Hi Dana,") and "I'm Lee from Acme" in out


def test_templates_render_an_unknown_situation_exits_2() -> None:
    assert refused("templates", "render", "nope") == "error: no template for situation 'nope'"


def test_lint_is_clean_for_a_good_first_response() -> None:
    result = cli("lint", "--lang", "en", "--situation", "first_response", "-", stdin=CLEAN_REPLY)
    assert (result.exit_code, result.stdout) == (0, "")


def test_lint_needs_a_reply_time_only_in_a_first_response() -> None:
    text = "Hi Tom, we will look into it."
    result = cli("lint", "--lang", "en", "--situation", "first_response", "-", stdin=text)
    assert result.exit_code == 1
    (finding,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (finding["rule"], finding["start"], finding["end"]) == ("missing-reply-time", 0, len(text))
    assert cli("lint", "--lang", "en", "--situation", "closing", "-", stdin=text).exit_code == 0


def test_lint_adds_the_rules_named_in_settings(tmp_path: Path) -> None:
    rules = tmp_path / "house_rules.toml"
    rules.write_text(
        '[[rules]]\nid = "no-policy"\nkind = "forbidden"\nmessage = "Say what you will do instead."\n'
        'patterns = ["per our policy"]\n',
        encoding="utf-8",
    )
    path = write_team_settings(tmp_path, '\n[library]\nlint_rules = "house_rules.toml"\n')
    text = "Per our policy we will get back to you within 2 hours."
    result = cli("lint", "--lang", "en", "--config", str(path), "-", stdin=text)
    assert result.exit_code == 1
    (finding,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (finding["rule"], finding["excerpt"], finding["severity"]) == (
        "no-policy",
        "Per our policy",
        "error",
    )
    assert cli("lint", "--lang", "en", "-", stdin=text).exit_code == 0  # without the settings file


def test_lint_an_unreadable_draft_exits_2(tmp_path: Path) -> None:
    assert f"cannot read draft {tmp_path / 'gone.txt'}" in refused("lint", str(tmp_path / "gone.txt"))
    binary = tmp_path / "draft.bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "cannot read draft" in refused("lint", str(binary))


# --- replay ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "count", "first"),
    [
        (
            "rss",
            "stackoverflow_atom.xml",
            2,
            {"author": "nfarrar", "external_id": "https://stackoverflow.com/q/28509965"},
        ),
        ("rss", "gb2312_illformed.xml", 1, {"text": "不归移民漫画系列：专业工作", "lang": "zh"}),
        ("jsonld", "recipe_page_15_reviews.html", 15, {"author": "Danielle"}),
        ("jsonld", "product_microdata.html", 0, {}),
        ("hackernews", "hn_search_by_date_apple.json", 1, {"external_id": "7919418", "author": "fleitz"}),
        ("mastodon", "mastodon/hashtag_timeline.yaml", 1, {"text": "# hoot (hashtag toot)"}),
        ("mastodon", "mastodon/status_context.yaml", 1, {"author": "mastodonpy_test", "text": "Toot!"}),
        (
            "appstore",
            "appstore_customerreviews_cn.json",
            3,
            {"author": "咖啡控小王", "rating": 1.0, "lang": "zh"},
        ),
        ("bluesky", "bluesky_post_thread.json", 0, {}),
    ],
)
def test_replay_parses_a_saved_response(kind: str, name: str, count: int, first: dict[str, Any]) -> None:
    result = ok("replay", kind, str(FIXTURES / name))
    mentions = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(mentions) == count
    assert len({m["external_id"] for m in mentions}) == count  # no duplicates
    for mention in mentions:
        assert set(mention) == {"external_id", "url", "author", "text", "published_at", "rating", "lang"}
        assert mention["lang"]  # detected when the source gave none
    if first:
        assert first.items() <= mentions[0].items()


@pytest.mark.parametrize(
    ("kind", "name", "reason"),
    [
        ("nope", "stackoverflow_atom.xml", "unknown source kind 'nope'; known: appstore, bluesky"),
        ("rss", "missing.xml", "cannot read"),
        ("rss", "rss_empty_document_illformed.xml", "not a readable feed"),
    ],
)
def test_replay_refusals_name_the_problem(kind: str, name: str, reason: str) -> None:
    assert reason in refused("replay", kind, str(FIXTURES / name))


def test_replay_a_broken_yaml_cassette_exits_2(tmp_path: Path) -> None:
    cassette = tmp_path / "broken.yaml"
    cassette.write_text("interactions: [\n  - {", encoding="utf-8")
    assert f"{cassette}: not a readable YAML cassette" in refused("replay", "mastodon", str(cassette))


# --- report -----------------------------------------------------------------------------------------


@pytest.fixture
def report_config(tmp_path: Path) -> str:
    """A team whose model id is the seeded scores' id, with three November posts stored."""
    from tests.builders import MODEL, fresh_store

    settings = team_settings(tmp_path, f'\n[model]\nname = "{MODEL}"\n')
    store = fresh_store(settings)
    routings = seed_posts(
        store,
        settings,
        [
            Post("My order never arrived and nobody answers.", 0.9, author="a"),
            Post("The courier lost my parcel again.", 0.85, author="b"),
            Post("Lovely staff, great coffee!", 0.05, author="c"),
        ],
    )
    assert len(case_ids(routings)) == 2
    return str(tmp_path / "voxwatch.toml")


def test_report_writes_the_month_as_html(report_config: str, tmp_path: Path) -> None:
    output = tmp_path / "nov.html"
    result = ok("report", "--month", "2026-11", "--output", str(output), "--config", report_config)
    assert " ".join(result.stdout.split()) == f"wrote {output} (November 2026: 3 mentions)"
    html = output.read_text(encoding="utf-8")
    assert "<title>Acme: reputation and care, November 2026</title>" in html
    assert re.search(r'id="volume">3<', html)
    assert re.search(r'<td>Delivery</td><td class="n">2</td>', html)  # the month's top complaint theme


def test_report_for_an_empty_month_counts_nothing(report_config: str, tmp_path: Path) -> None:
    output = tmp_path / "oct.html"
    result = ok("report", "--month", "2026-10", "-o", str(output), "--config", report_config)
    assert "October 2026: 0 mentions" in result.stdout
    assert re.search(r'id="volume">0<', output.read_text(encoding="utf-8"))


@pytest.mark.parametrize("month", ["2026-13", "November", "2026/11", "26-11", "2026-11-05"])
def test_report_refuses_a_bad_month(report_config: str, tmp_path: Path, month: str) -> None:
    output = tmp_path / "never.html"
    assert f"--month {month!r} is not YYYY-MM" in refused(
        "report", "--month", month, "-o", str(output), "--config", report_config
    )
    assert not output.exists()


# --- users ---------------------------------------------------------------------------------------------


def test_hash_password_prints_a_hash_that_verifies() -> None:
    result = ok("users", "hash-password", stdin="correct horse battery\ncorrect horse battery\n")
    stored = result.stdout.splitlines()[-1]
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert "correct horse battery" not in result.stdout  # the prompt hides what was typed


def test_hash_password_asks_again_when_the_two_entries_differ() -> None:
    result = ok(
        "users", "hash-password", stdin="first-password\nsecond-password\nthird-password\nthird-password\n"
    )
    assert "do not match" in result.stdout
    assert verify_password("third-password", result.stdout.splitlines()[-1])


def test_hash_password_refuses_a_short_password() -> None:
    assert refused("users", "hash-password", stdin="short\nshort\n") == "error: use at least 10 characters"


# --- proof of who acts: personal tokens and passwords ------------------------------------------------

AMY_PASSWORD = "amy's long passphrase"


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a person sat at a terminal: the hidden password prompt reads CliRunner's input."""
    monkeypatch.setattr("voxwatch.cli.identity.interactive", lambda: True)


@pytest.fixture
def amy_has_a_password(desk: Desk) -> None:
    path = Path(desk.config)
    text = path.read_text(encoding="utf-8")
    hashed = hash_password(AMY_PASSWORD)
    path.write_text(text.replace('name = "amy"\n', f'name = "amy"\npassword_hash = "{hashed}"\n', 1), "utf-8")


def stored_tokens(config: str) -> list[tuple[Any, ...]]:
    settings = load_settings(config)
    return store_for(settings).read(
        lambda c: sorted(c.execute("SELECT * FROM person_tokens").fetchall(), key=repr)
    )


def token_audit(config: str) -> list[tuple[str, str, str]]:
    settings = load_settings(config)
    return store_for(settings).read(
        lambda c: c.execute(
            "SELECT actor, entity_id, action FROM audit_log WHERE entity = 'person' ORDER BY id"
        ).fetchall()
    )


def test_acting_without_a_token_where_nobody_can_type_a_password_is_refused(desk: Desk) -> None:
    before = desk.show("tom")
    message = refused("cases", "assign", desk.cases["tom"], "--as", "ben", "--config", desk.config)
    assert message == (
        "error: acting as ben needs proof: set $VOXWATCH_TOKEN to ben's personal token "
        "(an admin issues one: voxwatch users token ben --as ADMIN)"
    )
    assert desk.show("tom") == before


@pytest.mark.parametrize("who", ["amy", "nobody"])
def test_a_token_proves_only_its_own_person(desk: Desk, who: str) -> None:
    before = desk.show("tom")
    token = desk.tokens["amy"] if who == "amy" else "vxw_" + "A" * 43
    message = refused(
        "cases", "dismiss", desk.cases["tom"], "--as", "grace", "--reason", "spam", "--config", desk.config,
        token=token,
    )  # fmt: skip
    assert "the token given is not a valid token of grace" in message
    assert desk.show("tom") == before


@pytest.mark.usefixtures("at_a_terminal", "amy_has_a_password")
def test_at_a_terminal_the_password_is_proof_and_a_wrong_one_changes_nothing(desk: Desk) -> None:
    before = desk.show("wang")
    args = (
        "authors",
        "note",
        "blog",
        "wang",
        "--as",
        "amy",
        "--note",
        "prefers WeChat",
        "--config",
        desk.config,
    )
    assert refused(*args, stdin="not her password\n") == "error: wrong password for amy"
    assert refused(*args, stdin="") == "error: no password given for amy"
    assert desk.show("wang") == before and token_audit(desk.config) == []
    result = ok(*args, stdin=f"{AMY_PASSWORD}\n")
    assert "Password for amy:" in result.stdout and AMY_PASSWORD not in result.stdout
    audit = store_for(load_settings(desk.config)).read(lambda c: queries.audit_entries(c, "author", 5))
    assert [(a["actor"], a["action"]) for a in audit] == [("amy", "noted")]


@pytest.mark.usefixtures("amy_has_a_password")
def test_where_nobody_can_type_the_password_is_not_asked_for(desk: Desk) -> None:
    """A script (stdin not a terminal) never has its input read as a password: a token is needed."""
    message = refused(
        "cases", "draft", desk.cases["wang"], "--as", "amy", "--body-file", "-", "--config", desk.config,
        stdin=f"{AMY_PASSWORD}\n",
    )  # fmt: skip
    assert message.startswith("error: acting as amy needs proof: set $VOXWATCH_TOKEN to amy's personal token")
    assert desk.show("wang")["draft"] is None


@pytest.mark.usefixtures("at_a_terminal", "amy_has_a_password")
def test_a_person_makes_their_own_token_with_their_password_and_it_is_stored_only_as_a_hash(
    desk: Desk,
) -> None:
    assert refused("users", "token", "amy", "--config", desk.config, stdin="wrong password\n") == (
        "error: wrong password for amy"
    )
    before = stored_tokens(desk.config)
    result = ok("users", "token", "amy", "--config", desk.config, stdin=f"{AMY_PASSWORD}\n")
    token = next(line for line in result.stdout.splitlines() if line.startswith("vxw_"))
    assert len(token) == 4 + 43  # the prefix and 32 random bytes, base64url
    (new,) = [row for row in stored_tokens(desk.config) if row not in before]
    assert token not in str(new)  # only the hash is kept
    assert new[1:3] == ("amy", hashlib.sha256(token.encode()).hexdigest()) and new[4] == "amy"
    assert token_audit(desk.config) == [("amy", "amy", "token_issued")]
    assert (
        "assigned to amy"
        in ok(
            "cases", "assign", desk.cases["tom"], "--as", "amy", "--config", desk.config, token=token
        ).stdout
    )


@pytest.mark.usefixtures("at_a_terminal")
def test_a_token_for_yourself_needs_your_password_not_a_token(desk: Desk) -> None:
    """grace has no password here: her token cannot make her another one, even though she is an admin."""
    message = refused(
        "users", "token", "grace", "--config", desk.config, token=desk.tokens["grace"], stdin="x\n"
    )
    assert message.startswith("error: grace has no password in settings")


def test_an_admin_issues_a_token_for_anyone_and_others_may_not(desk: Desk) -> None:
    result = desk.run("users", "token", "erin", "--as", "grace")
    token = next(line for line in result.stdout.splitlines() if line.startswith("vxw_"))
    assert "shown only now" in result.stdout
    assert ok(
        "authors", "show", "blog", "tom", "--as", "grace", "--config", desk.config, token=desk.tokens["grace"]
    )
    refusal = refused("authors", "show", "blog", "tom", "--as", "erin", "--config", desk.config, token=token)
    assert "erin (executive) may not view_case" in refusal  # proven, and still only an executive
    before = stored_tokens(desk.config)
    message = refused(
        "users", "token", "ben", "--as", "amy", "--config", desk.config, token=desk.tokens["amy"]
    )
    assert message == "error: amy (responder) may not manage ben's tokens: it needs one of admin"
    assert stored_tokens(desk.config) == before
    assert token_audit(desk.config) == [("grace", "erin", "token_issued")]


def test_a_revoked_token_is_refused_and_listings_never_show_a_token(desk: Desk) -> None:
    amy = desk.tokens["amy"]
    listed = json.loads(desk.run("users", "tokens", "--as", "amy", "--json").stdout)
    assert [(t["person"], t["revoked_at"]) for t in listed] == [("amy", None)]
    everyone = json.loads(desk.run("users", "tokens", "--as", "grace", "--json").stdout)
    assert {t["person"] for t in everyone} == set(desk.tokens)
    shown = json.dumps(everyone)
    assert not any(token in shown for token in desk.tokens.values()) and "sha256" not in shown
    assert "may not manage ben's tokens" in refused(
        "users", "tokens", "--as", "amy", "--person", "ben", "--config", desk.config, token=amy
    )

    assert "revoked 1 token(s) of amy" in desk.run("users", "revoke-token", "amy", "--as", "amy").stdout
    before = desk.show("wang")
    message = refused("cases", "dismiss", desk.cases["wang"], "--as", "amy", "--reason", "x", "--config",
                      desk.config, token=amy)  # fmt: skip
    assert "the token given is not a valid token of amy" in message
    assert desk.show("wang") == before
    table = CliRunner().invoke(
        app, ["users", "tokens", "--as", "grace", "--config", desk.config],
        env={"COLUMNS": "200", TOKEN_ENV: desk.tokens["grace"]},
    )  # fmt: skip
    assert table.exit_code == 0 and "by amy" in table.stdout and amy not in table.stdout
    assert token_audit(desk.config) == [("amy", "amy", "token_revoked")]


def test_an_admin_revokes_someone_elses_token_by_id_and_a_responder_may_not(desk: Desk) -> None:
    listed = json.loads(desk.run("users", "tokens", "--as", "grace", "--person", "ben", "--json").stdout)
    (ben,) = listed
    assert "may not manage ben's tokens" in refused(
        "users", "revoke-token", "ben", "--as", "amy", "--config", desk.config, token=desk.tokens["amy"]
    )
    assert "no live token 'nope'" in refused(
        "users", "revoke-token", "ben", "--id", "nope", "--as", "grace", "--config", desk.config,
        token=desk.tokens["grace"],
    )  # fmt: skip
    out = desk.run("users", "revoke-token", "ben", "--id", ben["id"], "--as", "grace").stdout
    assert f"revoked 1 token(s) of ben: {ben['id']}" in " ".join(out.split())
    assert "not a valid token of ben" in refused(
        "cases", "assign", desk.cases["tom"], "--as", "ben", "--config", desk.config, token=desk.tokens["ben"]
    )


# --- the heavy commands, up to their settings check --------------------------------------------------


@pytest.mark.parametrize("command", [["run"], ["collect"], ["serve"], ["dashboard"], ["route", "a text"]])
def test_heavy_commands_check_settings_first(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    assert f"cannot read settings file {missing}" in refused(*command, "--config", str(missing))


def test_collect_refuses_a_source_that_is_not_in_settings(config: str) -> None:
    assert "no source named 'nope' in settings" in refused("collect", "--source", "nope", "--config", config)


def test_score_with_a_broken_settings_file_exits_2_before_loading_the_model(tmp_path: Path) -> None:
    path = tmp_path / "voxwatch.toml"
    path.write_text("[brand\n", encoding="utf-8")
    assert "is not valid TOML" in refused("score", "--config", str(path), stdin='{"text": "hi"}\n')


# --- help for every command --------------------------------------------------------------------------


def command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command the app registers, as the words a user types (``cases``, ``cases list`` ...)."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, TyperGroup):
            yield from command_paths(command, (*prefix, name))


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
COMMANDS = list(command_paths(ROOT))


def test_the_command_walk_finds_the_known_commands() -> None:
    words = {" ".join(path) for path in COMMANDS}
    assert {
        "check-config",
        "cases list",
        "cases follow-up",
        "users hash-password",
        "templates render",
    } <= words
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = ok(*path, "--help")
    assert "Usage:" in result.stdout
    command: Any = ROOT
    for word in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[word]
    summary = (command.help or "").strip().splitlines()[0]
    assert summary, f"{' '.join(path)} has no help text"
    assert " ".join(summary.split()) in " ".join(result.stdout.split())


def test_no_arguments_prints_the_overview() -> None:
    result = cli()
    out = result.stdout + result.stderr
    assert "VoxWatch: watch what the public says about a brand" in out
    assert "cases" in out and "check-config" in out
