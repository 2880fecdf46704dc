"""The per-day rollups always equal counting the rows themselves, on both engines.

Hypothesis writes random mentions (days, hours, sources, languages, a date or
none), scores from two models with random themes, triage, and erasures, through
the query functions the stages use; after each step every trends read from the
rollups equals the same read from the rows (``from_rows=True``). A write that
fails half way moves no count, and an older store is counted when it migrates.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxwatch.domain import Mention, Score, Tier, TriageRecord, Validity, mention_id
from voxwatch.store import Store, queries, store_for
from voxwatch.store.migrations import MIGRATIONS

pytestmark = pytest.mark.both_engines

D0 = datetime(2026, 11, 10, tzinfo=UTC)
NOW = D0 + timedelta(days=8)
WINDOW = timedelta(hours=72)
MODELS = ("m1", "m2")
THEMES = ("delivery", "price", "app/website")

post = st.fixed_dictionaries(
    {
        "day": st.integers(0, 5),
        "hour": st.integers(0, 23),
        "dated": st.booleans(),
        "source": st.sampled_from(["blog", "shop"]),
        "lang": st.sampled_from(["en", "zh", None]),
        "label": st.sampled_from(["negative", "neutral", "positive"]),
        "themes": st.lists(st.sampled_from(THEMES), unique=True, max_size=2),
        "both_models": st.booleans(),
        "validity": st.sampled_from([Validity.COMPLAINT, Validity.PRAISE, Validity.QUESTION]),
        "erase": st.booleans(),
    }
)


def store_posts(store: Store, posts: list[dict[str, Any]]) -> list[str]:
    """Store, score and triage ``posts`` as the stages do; their mention ids."""
    batch = uuid.uuid4().hex[:8]
    ids = []

    def _write(conn: queries.Connection) -> None:
        for n, p in enumerate(posts):
            at = D0 + timedelta(days=p["day"], hours=p["hour"])
            mention = Mention(
                f"{batch}-{n}", f"post {batch} {n}", published_at=at if p["dated"] else None, lang=p["lang"]
            )
            queries.insert_mentions(conn, p["source"], [mention], at, None, WINDOW)
            ids.append(mention_id(p["source"], mention.external_id))
        for model in MODELS:
            scored = [
                (
                    ident,
                    Score(
                        p["label"],
                        {"negative": 0.5, "neutral": 0.3, "positive": 0.2},
                        model,
                        tuple(p["themes"]),
                    ),
                )
                for ident, p in zip(ids, posts, strict=True)
                if model == "m1" or p["both_models"]
            ]
            queries.insert_scores(conn, scored, NOW)
        records = [
            TriageRecord(ident, "m1", p["validity"], "", Tier.NORMAL, [])
            for ident, p in zip(ids, posts, strict=True)
        ]
        queries.insert_triages(conn, records, NOW)

    store.write(_write)
    return ids


def reads(store: Store, from_rows: bool) -> dict[str, Any]:
    """Every rollup-backed read, over several whole-day windows."""

    def _read(conn: queries.Connection) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for start in (D0 - timedelta(days=1), D0 + timedelta(days=2)):
            end = start + timedelta(days=4)
            for model in MODELS:
                for by in ("source", "language", "theme"):
                    found[f"daily {model} {by} {start}"] = queries.daily_sentiment(
                        conn, model, start, by, from_rows
                    )
                found[f"labels {model} {start}"] = queries.analytics.daily_label_totals(
                    conn, model, start, end, from_rows
                )
                found[f"totals {model} {start}"] = queries.sentiment_totals(
                    conn, model, start, end, from_rows
                )
                found[f"negatives {model} {start}"] = queries.daily_negative_counts(
                    conn, model, start, end, from_rows
                )
            found[f"themes {start}"] = queries.top_complaint_themes(conn, start, None, end, from_rows)
        return found

    return store.read(_read)


def normal(found: dict[str, Any]) -> dict[str, Any]:
    """Counts as ints, so a BIGINT sum and a count compare equal on both engines."""
    out: dict[str, Any] = {}
    for key, value in found.items():
        if isinstance(value, dict):
            out[key] = {k: int(v) for k, v in value.items()}
        else:
            out[key] = [
                {k: int(v) if k in ("mentions", "complaints") else v for k, v in row.items()}
                if isinstance(row, dict)
                else (row[0], int(row[1]))
                for row in value
            ]
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts=st.lists(post, min_size=1, max_size=12))
def test_rollups_equal_counting_the_rows_after_every_write_and_erasure(
    team, posts: list[dict[str, Any]]
) -> None:
    store = store_for(team)
    ids = store_posts(store, posts)
    assert normal(reads(store, False)) == normal(reads(store, True))
    erased = [ident for ident, p in zip(ids, posts, strict=True) if p["erase"]]
    store.write(lambda c: queries.erase_mentions(c, erased))
    assert normal(reads(store, False)) == normal(reads(store, True))


def test_a_write_that_fails_half_way_moves_no_count(team) -> None:
    store = store_for(team)
    store_posts(
        store,
        [
            {
                "day": 1,
                "hour": 3,
                "dated": True,
                "source": "blog",
                "lang": "en",
                "label": "negative",
                "themes": ["delivery"],
                "both_models": False,
                "validity": Validity.COMPLAINT,
                "erase": False,
            }
        ],
    )
    before = reads(store, False)

    def half_then_fail(conn: queries.Connection) -> None:
        queries.insert_mentions(
            conn, "blog", [Mention("late", "late post", published_at=D0)], D0, None, WINDOW
        )
        queries.insert_scores(
            conn,
            [
                (
                    mention_id("blog", "late"),
                    Score("negative", {"negative": 0.9, "neutral": 0.05, "positive": 0.05}, "m1", ("price",)),
                )
            ],
            NOW,
        )
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        store.write(half_then_fail)
    assert reads(store, False) == before


def test_an_older_store_is_counted_when_it_migrates(
    unmigrated_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = unmigrated_store
    names = [m.name for m in MIGRATIONS]
    with monkeypatch.context() as patched:
        patched.setattr("voxwatch.store.database.MIGRATIONS", MIGRATIONS[: names.index("daily_rollups")])
        store.migrate()  # a store as it was before the rollups

        def _rows(conn: queries.Connection) -> None:
            for n, (day, label, theme) in enumerate(
                [(0, "negative", "delivery"), (0, "positive", None), (2, "negative", None)]
            ):
                at = D0 + timedelta(days=day, hours=n)
                conn.execute(
                    "INSERT INTO mentions (id, source, external_id, text, lang, published_at, collected_at, "
                    "content_hash) VALUES (?, 'blog', ?, 'old post', 'en', ?, ?, 'h')",
                    [f"old-{n}", f"old-{n}", at, at],
                )
                conn.execute(
                    "INSERT INTO scores VALUES (?, 'm1', ?, 0.5, 0.3, 0.2, ?, ?)",
                    [f"old-{n}", label, [theme] if theme else [], NOW],
                )
                conn.execute(
                    "INSERT INTO triage VALUES (?, 'm1', 'complaint', '', 'normal', ARRAY[]::VARCHAR[], ?)",
                    [f"old-{n}", NOW],
                )

        store.write(_rows)
    assert store.migrate() == ["daily_rollups", "case_kpi_rollups"]
    counted = normal(reads(store, False))
    assert counted == normal(reads(store, True))
    assert counted[f"totals m1 {D0 - timedelta(days=1)}"] == {"negative": 2, "positive": 1}
