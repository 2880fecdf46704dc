"""Case numbers (VW-1042): sequential, stable, backfilled; one resolver for every way a case is named.

People read case numbers out on calls and type them in commands, so a number must
never change or be reused, routing again must not draw new ones, a store from before
numbers must get them in the order its cases were opened, and every form a person
may type (``VW-7``, ``7``, the full id, the start of it) must reach the same case,
through the resolver, the services and the command line alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from responders.cases import CaseService
from tests.builders import (
    MODEL,
    Post,
    decide_posts,
    fresh_store,
    issue_tokens,
    seed_posts,
    team_settings,
)
from voxwatch.cli import app
from voxwatch.cli.identity import TOKEN_ENV
from voxwatch.domain import case_number_label, parse_case_number
from voxwatch.errors import AmbiguousCase, CaseNotFound
from voxwatch.settings import Settings
from voxwatch.store import DuckDBStore, Store, queries, stages, store_for
from voxwatch.store.migrations import MIGRATIONS

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

POSTS = [
    Post("The app crashed during checkout and took my money twice.", 0.9, author="ann", minutes_ago=10),
    Post("My coffee arrived cold and the lid was broken.", 0.8, author="tom", minutes_ago=20),
    Post("Still waiting for the refund you promised two weeks ago.", 0.85, author="kim", minutes_ago=30),
    Post("Delivery was three hours late and nobody answered the phone.", 0.9, author="joe", minutes_ago=40),
]


def numbers_by_id(store: Store) -> dict[str, int]:
    rows = store.read(lambda c: c.execute("SELECT id, number FROM cases").fetchall())
    return {case_id: number for case_id, number in rows}


def route_twice(store: Store, team: Settings, posts: list[Post]) -> None:
    """Store, score and decide ``posts`` as the stages do, then save the same decisions twice (a rerun)."""
    decisions = decide_posts(store, team, posts)
    stages.save_decisions(store, decisions)
    assert stages.save_decisions(store, decisions) == []  # the rerun opens nothing


# --- numbering --------------------------------------------------------------------------


def test_numbers_are_sequential_and_routing_again_keeps_them(team: Settings) -> None:
    store = store_for(team)
    route_twice(store, team, POSTS[:3])
    first = numbers_by_id(store)
    assert sorted(first.values()) == [1, 2, 3]

    route_twice(store, team, POSTS[:3])  # the same posts again: nothing new, nothing renumbered
    assert numbers_by_id(store) == first

    route_twice(store, team, POSTS)  # one new post: the next number, no gap from the reruns
    now = numbers_by_id(store)
    assert {k: v for k, v in now.items() if k in first} == first
    assert sorted(now.values()) == [1, 2, 3, 4]


def test_cases_read_back_with_their_number(team: Settings) -> None:
    store = store_for(team)
    seed_posts(store, team, POSTS)
    listed = store.read(lambda c: queries.list_cases(c))
    inbox = store.read(lambda c: queries.inbox(c, MODEL))
    assert sorted(row["number"] for row in listed) == [1, 2, 3, 4]
    assert {row["case_id"]: row["number"] for row in inbox} == {row["id"]: row["number"] for row in listed}
    for row in listed:
        case = store.read(lambda c, r=row: queries.get_case(c, r["id"]))
        assert case is not None and case["number"] == row["number"]


def test_older_store_is_backfilled_in_the_order_cases_were_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [m.name for m in MIGRATIONS]
    before = MIGRATIONS[: names.index("case_numbers")]
    store = DuckDBStore(tmp_path / "old.duckdb")
    monkeypatch.setattr("voxwatch.store.database.MIGRATIONS", before)
    store.migrate()  # a store as it was before case numbers
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    order = {"case-ccc": 0, "case-aaa": 1, "case-bbb": 2}  # opened in this order, not in id order

    def _old_cases(conn: queries.Connection) -> None:
        for case_id, hours in order.items():
            at = opened + timedelta(hours=hours)
            conn.execute(
                "INSERT INTO cases (id, mention_id, tier, reasons, rule, team, status, first_response_due, "
                "resolution_due, created_at, updated_at) VALUES (?, ?, 'normal', [], 'r', 'care', 'new', "
                "?, ?, ?, ?)",
                [case_id, case_id[5:], at, at, at, at],
            )

    store.write(_old_cases)
    monkeypatch.undo()
    assert store.migrate() == [m.name for m in MIGRATIONS[len(before) :]]
    assert numbers_by_id(store) == {"case-ccc": 1, "case-aaa": 2, "case-bbb": 3}

    team = team_settings(tmp_path)  # a case opened after the upgrade continues the sequence
    stages.register_settings(store, team)
    route_twice(store, team, POSTS[:1])
    assert sorted(numbers_by_id(store).values()) == [1, 2, 3, 4]


# --- the resolver -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    """A team with the four posts routed: its settings and each case's number by id."""
    folder = tmp_path_factory.mktemp("numbers")
    team = team_settings(folder)
    store = fresh_store(team)
    seed_posts(store, team, POSTS)
    return team, numbers_by_id(store)


def resolve(team: Settings, ref: str) -> str | None:
    return store_for(team).read(lambda c: queries.find_case_id(c, ref))


def shared_prefix(ids: list[str]) -> str:
    """The start two of the ids share: always at least ``case-``, so it fits more than one."""
    first, second = sorted(ids)[:2]
    same = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), len(first))
    return first[:same]


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("VW-n", "case"),
        ("vw-n", "case"),
        (" VW-n ", "case"),
        ("n", "case"),
        ("full id", "case"),
        ("id prefix", "case"),
        ("hex prefix", "case"),
        ("ambiguous prefix", AmbiguousCase),
        ("VW-999", None),
        ("999999999999999999999999", None),
        ("0", None),
        ("case-nope", None),
        ("", None),
    ],
)
def test_resolver_accepts_every_form(
    desk: tuple[Settings, dict[str, int]], form: str, expected: object
) -> None:
    team, numbers = desk
    case_id, number = max(numbers.items(), key=lambda item: item[1])
    others = [other for other in numbers if other != case_id]
    unique = next(  # the shortest start that fits it alone and is not all digits (that is a number)
        case_id[:k]
        for k in range(6, len(case_id) + 1)
        if not any(o.startswith(case_id[:k]) for o in others) and not case_id[5:k].isdigit()
    )
    ref = {
        "VW-n": f"VW-{number}",
        "vw-n": f"vw-{number}",
        " VW-n ": f" VW-{number} ",
        "n": str(number),
        "full id": case_id,
        "id prefix": unique,
        "hex prefix": unique.removeprefix("case-"),
        "ambiguous prefix": shared_prefix(list(numbers)),
    }.get(form, form)
    if expected is AmbiguousCase:
        with pytest.raises(AmbiguousCase) as refused:
            resolve(team, ref)
        assert len(refused.value.candidates) >= 2
        assert all(case_number_label(numbers[i]) in str(refused.value) for i in sorted(numbers)[:2])
        return
    assert resolve(team, ref) == (case_id if expected == "case" else None)


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_any_case_is_reached_by_its_number_its_id_and_its_prefixes(
    desk: tuple[Settings, dict[str, int]], data: st.DataObject
) -> None:
    team, numbers = desk
    case_id = data.draw(st.sampled_from(sorted(numbers)))
    number = numbers[case_id]
    for ref in (case_number_label(number), str(number), case_id):
        assert resolve(team, ref) == case_id
    cut = data.draw(st.integers(len("case-") + 1, len(case_id)))
    try:
        assert resolve(team, case_id[:cut]) == case_id  # a prefix reaches it, or names it among others
    except AmbiguousCase as many:
        assert any(case_id in candidate for candidate in many.candidates)


@given(number=st.integers(0, 10**30))
@settings(max_examples=50, deadline=None)
def test_a_number_reads_back_from_its_label(number: int) -> None:
    assert parse_case_number(case_number_label(number)) == number
    assert parse_case_number(str(number)) == number


def test_services_take_any_form_and_refuse_an_ambiguous_prefix(
    desk: tuple[Settings, dict[str, int]],
) -> None:
    team, numbers = desk
    service = CaseService(team)
    case_id, number = min(numbers.items(), key=lambda item: item[1])
    assert service.show(f"VW-{number}")["id"] == case_id
    shown = service.show(str(number))
    assert shown["id"] == case_id and shown["number"] == number and shown["audit"]  # read by the id
    with pytest.raises(CaseNotFound, match="fits"):
        service.show(shared_prefix(list(numbers)))
    with pytest.raises(CaseNotFound, match="VW-999"):
        service.show("VW-999")


# --- the command line ---------------------------------------------------------------------


def cli(*args: str, columns: int = 200, token: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), TOKEN_ENV: token})


def ok(*args: str, columns: int = 200, token: str | None = None) -> Result:
    result = cli(*args, columns=columns, token=token)
    assert result.exit_code == 0, result.stderr or result.stdout
    return result


@pytest.fixture
def routed(team: Settings, tmp_path: Path) -> tuple[str, dict[str, str], list[dict[str, Any]]]:
    """The settings file, everyone's token, and the open cases as ``cases list --json`` gives them."""
    seed_posts(store_for(team), team, POSTS)
    config = str(tmp_path / "voxwatch.toml")
    rows = json.loads(ok("cases", "list", "--json", "--config", config).stdout)
    return config, issue_tokens(team), rows


def test_cases_show_takes_a_case_number(routed: tuple[str, dict[str, str], list[dict[str, Any]]]) -> None:
    config, _, rows = routed
    first = next(row for row in rows if row["number"] == 1)
    shown = json.loads(ok("cases", "show", "VW-1", "--config", config).stdout)
    assert shown["id"] == first["id"] and shown["number"] == 1
    assert json.loads(ok("cases", "show", first["id"][:12], "--config", config).stdout)["number"] == 1


def test_cases_assign_takes_a_bare_number(routed: tuple[str, dict[str, str], list[dict[str, Any]]]) -> None:
    config, tokens, rows = routed
    target = next(row for row in rows if row["team"] == "care")
    ref = str(target["number"])
    result = ok(
        "cases", "assign", ref, "--as", "grace", "--to", "amy", "--config", config, token=tokens["grace"]
    )
    assert result.stdout.split() == [f"VW-{ref}", "assigned", "to", "amy"]
    assert json.loads(ok("cases", "show", ref, "--config", config).stdout)["owner"] == "amy"


def test_an_ambiguous_prefix_is_refused_with_the_candidates(
    routed: tuple[str, dict[str, str], list[dict[str, Any]]],
) -> None:
    config, _, rows = routed
    result = cli("cases", "show", shared_prefix([row["id"] for row in rows]), "--config", config)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert "VW-" in result.stderr and "fits" in result.stderr


def test_cases_list_fits_80_columns_one_line_per_case(
    routed: tuple[str, dict[str, str], list[dict[str, Any]]],
) -> None:
    config, _, rows = routed
    lines = ok("cases", "list", "--config", config, columns=80).stdout.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), lines
    assert len(lines) == 1 + len(rows)  # a header, then exactly one line per case
    for row in rows:
        (line,) = [line for line in lines if line.startswith(f"VW-{row['number']} ")]
        due = datetime.fromisoformat(row["first_response_due"]).astimezone(UTC)
        first_words = " ".join(row["excerpt"].split()[:2])
        for shown in (row["status"], f"{due:%m-%d %H:%M}", row["owner"] or "-", first_words):
            assert shown in line, (shown, line)


def test_every_listing_prints_json(routed: tuple[str, dict[str, str], list[dict[str, Any]]]) -> None:
    config, tokens, _ = routed
    for args, token in [
        (("cases", "list", "--json"), None),
        (("cases", "list", "--json", "--status", "dismissed"), None),
        (("outbox", "list", "--json"), None),
        (("templates", "list", "--json"), None),
        (("users", "tokens", "--as", "grace", "--json"), tokens["grace"]),
    ]:
        listed = json.loads(ok(*args, "--config", config, token=token).stdout)
        assert isinstance(listed, list), args
    templates = json.loads(ok("templates", "list", "--json", "--config", config).stdout)
    assert templates and {"key", "situation", "lang", "version", "body"} <= set(templates[0])
    outbox = json.loads(ok("outbox", "list", "--json", "--config", config).stdout)
    assert all(e["case_number"] is not None for e in outbox if e["case_id"])


def test_a_batch_naming_a_mention_twice_opens_and_audits_its_case_once(team: Settings) -> None:
    store = store_for(team)
    decisions = decide_posts(store, team, POSTS)
    created = stages.save_decisions(store, decisions + decisions)  # every decision twice in one batch
    assert len(created) == len({r.mention_id for r in created}) == len(POSTS)
    trails = store.read(
        lambda c: c.execute(
            "SELECT entity_id, array_agg(action ORDER BY id) FROM audit_log WHERE entity = 'case' GROUP BY 1"
        ).fetchall()
    )
    assert {tuple(actions) for _, actions in trails} == {("collected", "scored", "triaged", "routed")}
    assert sorted(numbers_by_id(store).values()) == list(range(1, len(POSTS) + 1))
