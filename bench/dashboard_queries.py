"""Dashboard reads at volume: the inbox and trends pages' queries on 1,000,000 mentions or more.

python bench/dashboard_queries.py [--mentions 1000000] [--baseline 10000] [--engine duckdb|postgres|both]
                                  [--keep DIR]

Generates a store of synthetic mentions (90 days, 6 sources, 3 languages, themes,
scores, triage, and a case for every complaint, most of them closed) with the real
migrations: the rows are written into a store as it was before the per-day rollups
(migrations 10 and 11), and those migrations then count them, as an upgrading
installation's do. Then it times exactly the functions the pages call, through
the store's read path. Each page is timed cold (first read) and warm (median of 5).
The baseline is the same reads on a small store built in the same run, so the ratio
shows how the reads scale; the budget is one second per page (issue 16 asks the
trends page for half a second at 10,000,000). Postgres runs on a server this script
starts from Debian's package, as the tests do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from voxwatch.store import DuckDBStore, Store, queries
from voxwatch.store.migrations import MIGRATIONS
from voxwatch.store.postgres_store import PostgresStore

MODEL = "bench-model"
BUDGET_SECONDS = 1.0
BEFORE_ROLLUPS = MIGRATIONS[: [m.name for m in MIGRATIONS].index("daily_rollups")]

# Synthetic rows, built inside the engine (far faster than Python inserts at this size).
GENERATE = {
    "duckdb": """
INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, author_reach,
                      published_at, collected_at, content_hash)
SELECT 'm' || i, 'source-' || (i % 6), 'x' || i, 'https://example.com/p/' || i, 'user' || (i % 50000), NULL,
       'Order ' || i || ': the delivery was late again and the app crashed at checkout, refund please',
       ['en', 'en', 'zh', 'en', 'ja'][1 + i % 5], NULL, NULL,
       $now::TIMESTAMPTZ - to_seconds((i * 7919) % (90 * 86400)), $now::TIMESTAMPTZ, md5('t' || i)
FROM range($n) t(i);

INSERT INTO scores
SELECT 'm' || i, $model, ['negative', 'neutral', 'positive'][1 + (i * 31) % 3],
       0.7, 0.2, 0.1, [['delivery'], ['refund/billing', 'app/website'], [], ['price']][1 + i % 4],
       $now::TIMESTAMPTZ
FROM range($n) t(i);

INSERT INTO triage
SELECT 'm' || i, $model, CASE WHEN i % 3 = 0 THEN 'complaint' ELSE 'not_actionable' END, 'bench',
       CASE WHEN i % 29 = 0 THEN 'urgent' ELSE 'normal' END, ['bench'], $now::TIMESTAMPTZ
FROM range($n) t(i);

INSERT INTO cases (id, mention_id, tier, reasons, rule, team, owner, first_owner, status, dismissed_reason,
                   first_response_due, resolution_due, created_at, updated_at, first_response_at,
                   followed_up_at, follow_up_waived, resolved_at, escalated_at, number)
SELECT 'case-m' || i, 'm' || i, CASE WHEN i % 29 = 0 THEN 'urgent' ELSE 'normal' END, ['negative'], 'bench',
       'care', 'agent' || (i % 40), 'agent' || (i % 40),
       CASE WHEN i % 97 = 0 THEN 'assigned' WHEN i % 89 = 0 THEN 'new' ELSE 'closed' END, NULL,
       created + INTERVAL 24 HOUR, created + INTERVAL 72 HOUR, created, created,
       created + INTERVAL 3 HOUR, NULL, NULL,
       CASE WHEN i % 97 = 0 OR i % 89 = 0 THEN NULL ELSE created + INTERVAL 20 HOUR END, NULL, i
FROM (SELECT i, $now::TIMESTAMPTZ - to_seconds((i * 7919) % (90 * 86400)) AS created
      FROM range($n) t(i) WHERE i % 3 = 0);
""",
    # psycopg's parameters: %(name)s, and a literal % doubled.
    "postgres": """
INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, author_reach,
                      published_at, collected_at, content_hash)
SELECT 'm' || i, 'source-' || (i %% 6), 'x' || i, 'https://example.com/p/' || i, 'user' || (i %% 50000), NULL,
       'Order ' || i || ': the delivery was late again and the app crashed at checkout, refund please',
       (ARRAY['en', 'en', 'zh', 'en', 'ja'])[1 + i %% 5], NULL, NULL,
       %(now)s::TIMESTAMPTZ - make_interval(secs => (i * 7919) %% (90 * 86400)), %(now)s::TIMESTAMPTZ,
       md5('t' || i)
FROM generate_series(0::BIGINT, %(n)s::BIGINT - 1) t(i);

INSERT INTO scores
SELECT 'm' || i, %(model)s, (ARRAY['negative', 'neutral', 'positive'])[1 + (i * 31) %% 3],
       0.7, 0.2, 0.1,
       (ARRAY['{delivery}', '{refund/billing,app/website}', '{}', '{price}'])[1 + i %% 4]::VARCHAR[],
       %(now)s::TIMESTAMPTZ
FROM generate_series(0::BIGINT, %(n)s::BIGINT - 1) t(i);

INSERT INTO triage
SELECT 'm' || i, %(model)s, CASE WHEN i %% 3 = 0 THEN 'complaint' ELSE 'not_actionable' END, 'bench',
       CASE WHEN i %% 29 = 0 THEN 'urgent' ELSE 'normal' END, ARRAY['bench'], %(now)s::TIMESTAMPTZ
FROM generate_series(0::BIGINT, %(n)s::BIGINT - 1) t(i);

INSERT INTO cases (id, mention_id, tier, reasons, rule, team, owner, first_owner, status, dismissed_reason,
                   first_response_due, resolution_due, created_at, updated_at, first_response_at,
                   followed_up_at, follow_up_waived, resolved_at, escalated_at, number)
SELECT 'case-m' || i, 'm' || i, CASE WHEN i %% 29 = 0 THEN 'urgent' ELSE 'normal' END, ARRAY['negative'],
       'bench', 'care', 'agent' || (i %% 40), 'agent' || (i %% 40),
       CASE WHEN i %% 97 = 0 THEN 'assigned' WHEN i %% 89 = 0 THEN 'new' ELSE 'closed' END, NULL,
       created + INTERVAL '24 hours', created + INTERVAL '72 hours', created, created,
       created + INTERVAL '3 hours', NULL, NULL,
       CASE WHEN i %% 97 = 0 OR i %% 89 = 0 THEN NULL ELSE created + INTERVAL '20 hours' END, NULL, i
FROM (SELECT i, %(now)s::TIMESTAMPTZ - make_interval(secs => (i * 7919) %% (90 * 86400)) AS created
      FROM generate_series(0::BIGINT, %(n)s::BIGINT - 1) t(i) WHERE i %% 3 = 0) AS opened;
ANALYZE;
""",
}


def build(store: Store, n: int, now: datetime) -> Store:
    """``n`` synthetic mentions in ``store``, written before the rollups' migration, then counted by it."""
    store.migrate(BEFORE_ROLLUPS)
    params = {"n": n, "now": now, "model": MODEL}
    if store.engine == "duckdb":

        def _generate(conn: Any) -> None:
            for statement in filter(str.strip, GENERATE["duckdb"].split(";")):
                conn.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})

        store.write(_generate)
    else:
        import psycopg

        assert isinstance(store, PostgresStore)
        with psycopg.connect(store.url, autocommit=True) as conn:  # raw SQL with its own parameters, once
            for statement in filter(str.strip, GENERATE["postgres"].split(";")):
                conn.execute(statement, params)  # type: ignore[call-overload]
    store.migrate()
    if isinstance(store, PostgresStore):  # as autovacuum leaves a loaded table: its visibility map
        import psycopg  # lets Postgres count open cases from their index alone

        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return store


def inbox_page(store: Store) -> Any:
    """What pages/inbox.py reads: the open cases, most urgent first, and each person's load."""
    return store.read(lambda conn: (queries.inbox(conn, MODEL, 200), queries.open_load(conn)))


def trends_page(store: Store, now: datetime) -> Any:
    """What pages/trends.py reads for 90 days, by source: how far back data goes, then read_trends."""
    from insights.trends import read_trends
    from voxwatch.store.queries.analytics import first_mention_at

    since = now - timedelta(days=90)
    return store.read(
        lambda conn: (first_mention_at(conn, MODEL), read_trends(conn, MODEL, since, now, "source"))
    )


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """(cold seconds, warm median seconds)."""
    start = time.perf_counter()
    fn()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


def trends_parts(store: Store, now: datetime) -> dict[str, float]:
    """Warm seconds of each read the trends page makes: which part grows with history."""
    from voxwatch.store.queries.analytics import daily_label_totals, first_mention_at
    from voxwatch.store.queries.rollups import day_start

    first, end = day_start(now - timedelta(days=90)), day_start(now) + timedelta(days=1)
    parts: dict[str, Callable[[Any], Any]] = {
        "daily by source (rollup)": lambda c: queries.daily_sentiment(c, MODEL, first, "source"),
        "daily totals (rollup)": lambda c: daily_label_totals(c, MODEL, first, end),
        "negatives per day (rollup)": lambda c: queries.daily_negative_counts(c, MODEL, first, now),
        "complaint themes (rollup)": lambda c: queries.top_complaint_themes(c, first, 5, end),
        "sentiment totals (rollup)": lambda c: queries.sentiment_totals(c, MODEL, first, end),
        "care KPIs (rollup)": lambda c: queries.response_kpis(c, now, first, end),
        "service recovery (rollup)": lambda c: queries.service_recovery(c, first, end),
        "first day (rollup)": lambda c: first_mention_at(c, MODEL),
    }
    return {name: timed(lambda fn=fn: store.read(fn), repeat=3)[1] for name, fn in parts.items()}


def case_action(store: Store, now: datetime) -> tuple[float, float]:
    """A person answering a case opened two days ago: the write, with the case's KPIs recounted."""
    found = store.read(
        lambda conn: conn.execute(
            "SELECT id FROM cases WHERE created_at < ? ORDER BY created_at DESC LIMIT 1",
            [now - timedelta(days=2)],
        ).fetchone()
    )
    assert found is not None
    answered = iter([now, None] * 10)  # answered, then not: the same change each time, either way
    return timed(
        lambda: store.write(
            lambda conn: queries.update_case(conn, found[0], {"first_response_at": next(answered)})
        )
    )


def measure(store: Store, n: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    build(store, n, now)
    print(f"{store.engine}: built {n:,} mentions in {time.perf_counter() - started:.1f} s", flush=True)
    return {
        "inbox": timed(lambda: inbox_page(store)),
        "trends": timed(lambda: trends_page(store, now)),
        "parts": trends_parts(store, now),
        "action": case_action(store, now),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--engine", choices=["duckdb", "postgres", "both"], default="both")
    parser.add_argument("--keep", type=Path, default=None, help="build the DuckDB stores here and keep them")
    args = parser.parse_args()
    now = datetime.now(UTC)
    engines = ["duckdb", "postgres"] if args.engine == "both" else [args.engine]
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for engine in engines:
            with stores(engine, folder) as make:
                small = measure(make(args.baseline), args.baseline, now)
                big = measure(make(args.mentions), args.mentions, now)
            report(engine, small, big, args.mentions, args.baseline)


@contextmanager
def stores(engine: str, folder: Path) -> Iterator[Callable[[int], Store]]:
    """A maker of empty stores on ``engine``: files in ``folder``, or databases on a server started here."""
    if engine == "duckdb":
        yield lambda n: DuckDBStore(folder / f"bench-{n}.duckdb")
        return
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from tests.postgres_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield lambda n: PostgresStore(server.database(empty=True))
    finally:
        server.stop()


def report(engine: str, small: dict[str, Any], big: dict[str, Any], n: int, baseline: int) -> None:
    for part, seconds in big["parts"].items():
        print(f"{engine:8} trends part at {n:,}: {part:28} {seconds:.3f} s")
    cold, warm = big["action"]
    print(
        f"{engine:8} a case action at {n:,} (its KPIs recounted): cold {cold:.3f} s, "
        f"warm {warm:.3f} s; {baseline:,}-mention baseline {small['action'][1]:.3f} s"
    )
    for page in ("inbox", "trends"):
        cold, warm = big[page]
        base = small[page][1]
        verdict = "within" if max(cold, warm) < BUDGET_SECONDS else "OVER"
        print(
            f"{engine:8} {page:6} page at {n:,}: cold {cold:.3f} s, warm {warm:.3f} s "
            f"({verdict} the {BUDGET_SECONDS:g} s budget; {BUDGET_SECONDS / max(cold, warm):.1f}x headroom); "
            f"{warm / base:.1f}x the {baseline:,}-mention baseline ({base:.3f} s)"
        )


if __name__ == "__main__":
    main()
