"""Forgetting people: an author's posts and what came of them are erased, and stay gone.

On a real store with routed cases, drafts, notes and a spike: after
``forget``, nothing of the author's words or handle remains anywhere in the
store except an anonymised audit entry saying that an erasure happened; a later
collection of the same posts stores nothing; other people's data is untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Response

from flows.collect import collect_flow
from responders.authors import AuthorService
from responders.cases import CaseService
from tests.builders import NOW, Post, case_ids, fresh_store, seed_posts, write_team_settings
from tests.settings_files import source, write_settings
from voxwatch.cli import app
from voxwatch.domain import Mention, RawResponse
from voxwatch.errors import PermissionDenied
from voxwatch.passwords import hash_password
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, stages

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

SECRET_WORDS = "my card 4111 was charged twice by Acme"


@pytest.fixture
def routed(tmp_path: Path) -> tuple[Path, Settings, list[str]]:
    config = write_team_settings(tmp_path)
    settings = load_settings(config)
    store = fresh_store(settings)
    routings = seed_posts(
        store,
        settings,
        [
            Post(SECRET_WORDS, 0.95, author="@PatQuinn"),
            Post("Acme still has not refunded me", 0.9, author="patquinn", source="shop"),
            Post("Acme app crashed during checkout", 0.9, author="olga"),
        ],
    )
    ids = case_ids(routings)
    cases = CaseService(settings, clock=lambda: NOW)
    pat_case = next(c for c in ids if cases.show(c)["author"] == "@PatQuinn")
    cases.draft(pat_case, cases.show(pat_case)["owner"])
    AuthorService(settings).add_note("grace", "blog", "@PatQuinn", "Called about card 4111", True)
    return config, settings, ids


def everything(path: Path) -> str:
    """Every value in every table, as one text to search."""
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def test_forgetting_an_author_erases_their_words_everywhere_but_keeps_others(
    routed: tuple[Path, Settings, list[str]],
) -> None:
    _, settings, _ = routed
    store_file = settings.store.path
    assert "4111" in everything(store_file) and "PatQuinn" in everything(store_file)

    erased = AuthorService(settings).forget("grace", "blog", "patquinn")

    assert erased["mentions"] == 1 and erased["cases"] == 1 and erased["notes"] == 1
    text = everything(store_file)
    assert "4111" not in text and "PatQuinn" not in text and SECRET_WORDS not in text
    assert "olga" in text and "Acme app crashed during checkout" in text  # other people stay
    assert "Acme still has not refunded me" in text  # the same handle on another source is another account
    entries = CaseService(settings).store.read(lambda c: queries.audit_entries(c, "author", 10))
    (erasure,) = [e for e in entries if e["action"] == "erased"]
    assert erasure["actor"] == "grace" and erasure["entity_id"].startswith("erased:")
    assert "patquinn" not in str(erasure).casefold()


def test_a_forgotten_author_is_never_collected_again(routed: tuple[Path, Settings, list[str]]) -> None:
    _, settings, _ = routed
    AuthorService(settings).forget("grace", "blog", "PatQuinn")
    again = Mention(
        "blog-new-1", SECRET_WORDS, "https://example.com/b/9", author="@patquinn", published_at=NOW
    )
    raw = RawResponse("https://example.com/blog", 200, {}, b"{}", NOW)
    assert stages.save_page(CaseService(settings).store, "blog", raw, [again]).new == 0
    assert "4111" not in everything(settings.store.path)


@pytest.mark.parametrize("who", ["amy", "maya", "erin"])
def test_only_supervisors_and_admins_may_forget_someone(
    routed: tuple[Path, Settings, list[str]], who: str
) -> None:
    _, settings, _ = routed
    before = everything(settings.store.path)
    with pytest.raises(PermissionDenied, match="forget_author"):
        AuthorService(settings).forget(who, "blog", "patquinn")
    assert everything(settings.store.path) == before


def test_the_command_forgets_and_says_what_it_did(
    routed: tuple[Path, Settings, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """grace proves who she is with her password at the prompt (a token's hash in the store could,
    by chance, hold the digits this test looks for)."""
    config, settings, _ = routed
    text = config.read_text(encoding="utf-8")
    hashed = hash_password("grace's passphrase")
    config.write_text(text.replace('name = "grace"\n', f'name = "grace"\npassword_hash = "{hashed}"\n', 1))
    monkeypatch.setattr("voxwatch.cli.identity.interactive", lambda: True)
    result = CliRunner().invoke(
        app,
        ["authors", "forget", "blog", "@PatQuinn", "--as", "grace", "--config", str(config)],
        input="grace's passphrase\n",
        env={"VOXWATCH_TOKEN": None},
    )
    assert result.exit_code == 0, result.output
    assert "1 mention(s)" in result.stdout and "tombstone" in result.stdout
    assert "4111" not in everything(settings.store.path)


def test_posts_the_platform_deleted_are_erased_on_the_next_collection(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    def feed(text: str) -> bytes:
        when = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>r/acme</title>'
            f"<item><guid>t3_1</guid><link>https://x.example/1</link><description>{text}</description>"
            f"<author>u1@x.example (u1)</author><pubDate>{when}</pubDate></item></channel></rss>"
        ).encode()

    responses = iter([feed("Acme double charged me, card 4111"), feed("[deleted]")])
    httpserver.expect_request("/r.rss").respond_with_handler(
        lambda request: Response(next(responses), content_type="application/rss+xml")
    )
    config = write_settings(
        tmp_path, source("reddit", "rss", httpserver.url_for("/r.rss"), min_request_interval_seconds=0)
    )
    assert collect_flow(str(config)) == {"reddit": 1}
    assert "4111" in everything(tmp_path / "voxwatch.duckdb")
    assert collect_flow(str(config)) == {"reddit": 0}
    assert "4111" not in everything(tmp_path / "voxwatch.duckdb")


def test_raw_responses_are_purged_after_the_retention_period(team: Settings) -> None:
    store = CaseService(team).store
    old = RawResponse(
        "https://example.com/old", 200, {}, b"old page with card 4111", datetime(2026, 1, 1, tzinfo=UTC)
    )
    recent = RawResponse("https://example.com/new", 200, {}, b"recent page", datetime.now(UTC))
    for raw in (old, recent):
        store.write(lambda c, r=raw: queries.save_raw_response(c, "blog", r))
    assert stages.purge_raw_responses(store, timedelta(days=team.store.raw_retention_days)) == 1
    kept = store.read(lambda c: c.execute("SELECT url FROM raw_responses").fetchall())
    assert kept == [("https://example.com/new",)]
