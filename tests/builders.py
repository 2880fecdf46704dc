"""Small, real stores for tests: a team's settings, a migrated DuckDB file, and routed cases.

Everything goes through the product's own code (``load_settings``, ``Store.migrate``,
``stages.save_page`` / ``save_scores`` / ``save_decisions``, ``responders.decide``):
only the model's score is given instead of computed, so a test that needs a case
does not need the pipeline, Prefect or the model. Like sqlite-utils' ``fresh_db``,
each test gets its own file.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from responders.decide import decide
from responders.identity import new_token, token_digest
from sentiment.themes import load_themes, tag_themes, urgent_theme_ids
from voxwatch.domain import Decision, Mention, RawResponse, Routing, Score, case_id_for
from voxwatch.settings import Settings, load_settings
from voxwatch.store import DuckDBStore, Store, queries, stages, store_for

MODEL = "test-model"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# The demo's team, without password hashes: every role, two teams, two languages.
TEAM_TOML = """
[[responders]]
name = "amy"
display_name = "Amy Chen"
team = "care"
languages = ["en", "zh"]
capacity = 15
email = "amy@acme.example"

[[responders]]
name = "ben"
display_name = "Ben Okafor"
team = "care"
languages = ["en"]
capacity = 15

[[responders]]
name = "sara"
display_name = "Sara Lindqvist"
team = "escalations"
roles = ["responder", "approver"]
languages = ["en", "zh"]
capacity = 10

[[responders]]
name = "maya"
display_name = "Maya Ortiz"
team = "comms"
roles = ["approver"]
languages = ["en", "zh"]
capacity = 0
email = "maya@acme.example"

[[responders]]
name = "grace"
display_name = "Grace Park"
team = "care"
roles = ["supervisor", "admin"]
capacity = 0
email = "grace@acme.example"

[[responders]]
name = "erin"
display_name = "Erin Walsh"
team = "leadership"
roles = ["executive"]
capacity = 0
"""


def write_team_settings(tmp_path: Path, extra: str = "", store_url: str | None = None) -> Path:
    """A settings file for the Acme brand, its team, one feed source and a store in ``tmp_path``.

    ``store_url``: a Postgres database (tests/postgres_server.py) instead of the DuckDB file.
    """
    path = tmp_path / "voxwatch.toml"
    url = f'url = "{store_url}"\n' if store_url else ""
    path.write_text(
        '[brand]\nname = "Acme"\nkeywords = ["acme"]\n\n'
        f'[store]\npath = "{(tmp_path / "voxwatch.duckdb").as_posix()}"\n{url}\n'
        '[[sources]]\nname = "blog"\nkind = "rss"\nurl = "http://127.0.0.1:9/feed.xml"\n\n'
        '[[sources]]\nname = "shop"\nkind = "jsonld"\nurl = "http://127.0.0.1:9/shop"\n'
        + TEAM_TOML
        + '\n[routing]\ndefault_team = "care"\n\n'
        '[[routing.rules]]\nname = "escalate urgent"\nteam = "escalations"\ntiers = ["urgent"]\n' + extra,
        encoding="utf-8",
    )
    return path


@cache
def _migrated_template() -> Path:
    """An empty store with every migration applied, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="voxwatch-template-"))
    DuckDBStore(folder / "template.duckdb").migrate()
    return folder / "template.duckdb"


def fresh_store(settings: Settings) -> Store:
    """The settings' store, migrated and with sources and responders registered.

    A copy of a store migrated once per process (the migrations themselves are
    tested in tests/test_store.py), so a fresh store per test costs a file copy.
    """
    store = store_for(settings)
    if not isinstance(store, DuckDBStore):
        store.migrate()  # a database copied from a migrated template (tests/postgres_server.py)
    elif store.path.exists():
        store.migrate()
    else:
        store.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_template(), store.path)
    stages.register_settings(store, settings)
    return store


@dataclass(frozen=True)
class Post:
    """One post to seed: its text, and the model's negative probability for it."""

    text: str
    p_negative: float = 0.9
    author: str = "customer"
    source: str = "blog"
    lang: str = "en"
    minutes_ago: int = 30


def score_for(post: Post) -> Score:
    """A score as the model would give it, with the themes the real tagger finds."""
    p_neg = post.p_negative
    rest = 1.0 - p_neg
    probs = {"negative": p_neg, "neutral": rest * 0.6, "positive": rest * 0.4}
    label = max(probs, key=lambda k: probs[k])
    return Score(label, probs, MODEL, tuple(tag_themes(post.text, load_themes())))


def seed_posts(store: Store, settings: Settings, posts: Sequence[Post], now: datetime = NOW) -> list[Routing]:
    """Store, score and route ``posts`` through the real stages; return the cases opened."""
    return stages.save_decisions(store, decide_posts(store, settings, posts, now))


def decide_posts(
    store: Store, settings: Settings, posts: Sequence[Post], now: datetime = NOW
) -> list[Decision]:
    """Store and score ``posts`` through the real stages, and decide routing for what is untriaged."""
    pages: dict[str, list[Mention]] = {}
    for index, post in enumerate(posts):  # one page per source, stored as the collect stage stores one
        pages.setdefault(post.source, []).append(
            Mention(
                external_id=f"{post.source}-{index}-{hashlib.sha256(post.text.encode()).hexdigest()[:8]}",
                text=post.text,
                url=f"https://example.com/{post.source}/{index}",
                author=post.author,
                published_at=now - timedelta(minutes=post.minutes_ago),
                lang=post.lang,
            )
        )
    for source, mentions in pages.items():
        raw = RawResponse(f"https://example.com/{source}", 200, {}, b"{}", now)
        stages.save_page(store, source, raw, mentions)
    unscored = store.read(lambda conn: queries.unscored_mentions(conn, MODEL, 10_000))
    by_text = {p.text: p for p in posts}
    stages.save_scores(store, [(m.id, score_for(by_text[m.text])) for m in unscored if m.text in by_text])
    found, load = store.read(
        lambda conn: (
            queries.untriaged(conn, MODEL, settings.routing.negative_threshold),
            queries.open_load(conn),
        )
    )
    return decide(settings, found, load, urgent_theme_ids())


def issue_tokens(settings: Settings) -> dict[str, str]:
    """A personal command-line token for everyone on the team, stored as the product stores them.

    Written straight to the store (a fixture, like seeded posts): issuing through
    ``IdentityService`` needs an admin's or the person's password, tested on its own.
    """
    tokens = {person.name: new_token() for person in settings.responders}

    def _insert(conn: queries.Connection) -> None:
        for index, (name, token) in enumerate(tokens.items()):
            queries.insert_token(conn, f"t{index}", name, token_digest(token), NOW, "tests")

    store_for(settings).write(_insert)
    return tokens


def case_ids(routings: Sequence[Routing]) -> list[str]:
    return [case_id_for(r.mention_id) for r in routings]


def team_settings(tmp_path: Path, extra: str = "", store_url: str | None = None) -> Settings:
    return load_settings(write_team_settings(tmp_path, extra, store_url))
