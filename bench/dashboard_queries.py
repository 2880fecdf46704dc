"""Dashboard reads at volume: the inbox and trends pages' queries on 1,000,000 mentions.

python bench/dashboard_queries.py [--mentions 1000000] [--baseline 10000] [--keep DIR]

Generates a store of synthetic mentions (90 days, 6 sources, 3 languages, themes,
scores, triage, and a case for every complaint, most of them closed) with the
real migrations, then times exactly the functions the pages call, through the
store's read path (a fresh short connection, as the dashboard does). Each page
is timed cold (first read) and warm (median of 5). The baseline is the same
reads on a small store built in the same run, so the ratio shows how the reads
scale; the budget is one second per page.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from voxwatch.store import DuckDBStore, Store, queries

MODEL = "bench-model"
BUDGET_SECONDS = 1.0

# Synthetic rows, built inside DuckDB (far faster than Python inserts at this size).
GENERATE = """
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

INSERT INTO cases
SELECT 'case-m' || i, 'm' || i, CASE WHEN i % 29 = 0 THEN 'urgent' ELSE 'normal' END, ['negative'], 'bench',
       'care', 'agent' || (i % 40), 'agent' || (i % 40),
       CASE WHEN i % 97 = 0 THEN 'assigned' WHEN i % 89 = 0 THEN 'new' ELSE 'closed' END, NULL,
       created + INTERVAL 24 HOUR, created + INTERVAL 72 HOUR, created, created,
       created + INTERVAL 3 HOUR, NULL, NULL,
       CASE WHEN i % 97 = 0 OR i % 89 = 0 THEN NULL ELSE created + INTERVAL 20 HOUR END, NULL
FROM (SELECT i, $now::TIMESTAMPTZ - to_seconds((i * 7919) % (90 * 86400)) AS created
      FROM range($n) t(i) WHERE i % 3 = 0);
"""


def build(path: Path, n: int, now: datetime) -> Store:
    store = DuckDBStore(path)
    store.migrate()
    params = {"n": n, "now": now, "model": MODEL}

    def _generate(conn: Any) -> None:
        for statement in filter(str.strip, GENERATE.split(";")):
            used = {k: v for k, v in params.items() if f"${k}" in statement}
            conn.execute(statement, used)

    store.write(_generate)
    return store


def inbox_page(store: Store) -> Any:
    """What pages/inbox.py reads: the open cases, most urgent first, and each person's load."""
    return store.read(lambda conn: (queries.inbox(conn, MODEL, 200), queries.open_load(conn)))


def trends_page(store: Store, now: datetime) -> Any:
    """What pages/trends.py reads for 90 days, by source (insights/trends.py: read_trends)."""
    from insights.trends import read_trends

    since = now - timedelta(days=90)
    return store.read(lambda conn: read_trends(conn, MODEL, since, now, "source"))


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


def measure(folder: Path, n: int, now: datetime) -> dict[str, tuple[float, float]]:
    started = time.perf_counter()
    store = build(folder / f"bench-{n}.duckdb", n, now)
    print(f"built {n:,} mentions in {time.perf_counter() - started:.1f} s")
    return {
        "inbox": timed(lambda: inbox_page(store)),
        "trends": timed(lambda: trends_page(store, now)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="build the stores here and keep them")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        small = measure(folder, args.baseline, now)
        big = measure(folder, args.mentions, now)
    for page in ("inbox", "trends"):
        cold, warm = big[page]
        base = small[page][1]
        verdict = "within" if max(cold, warm) < BUDGET_SECONDS else "OVER"
        print(
            f"{page:6} page at {args.mentions:,}: cold {cold:.3f} s, warm {warm:.3f} s "
            f"({verdict} the {BUDGET_SECONDS:g} s budget; {BUDGET_SECONDS / max(cold, warm):.1f}x headroom); "
            f"{warm / base:.1f}x the {args.baseline:,}-mention baseline ({base:.3f} s)"
        )


if __name__ == "__main__":
    main()
