"""One machine, end to end: mentions per second from fetch to routed cases, against scoring alone.

python bench/scale.py [--n 2000] [--seed 7]

A local server answers in the Hacker News Algolia shape (100 hits a page,
honouring ``numericFilters=created_at_i>X``) with ``--n`` generated mentions
(complaints, praise and questions, in English with some Spanish and Chinese).
In one run, each as a user runs it, in its own process, on a fresh DuckDB file:

1. ``voxwatch run``: collect -> score -> route, from nothing to routed cases;
2. the same split in two, for where the time goes: ``voxwatch collect`` alone,
   then ``voxwatch run`` (which finds nothing new to fetch, and scores and routes);
3. ``voxwatch score`` on the same texts (one JSON line each): the model alone,
   process start and model load included, as in 1;
4. ``voxwatch serve``'s case: one process runs the pipeline flow once on a small
   source (Prefect's server started, the model loaded and kept warm), then again
   on the N mentions, timed; beside it, the same warm process scoring the same
   texts with the loaded model alone.

It prints mentions per second for each and the pipeline's share of scoring
alone (issue 16 asks for at least 0.5).

5. Engines (``--engines``, on by default): the N mentions split over two sources,
   fetch to routed cases, on a DuckDB file with one ``voxwatch run``, then on a
   Postgres server (started here from Debian's package, as the tests do) with one
   worker and with two (two ``voxwatch run --source`` processes at once, as two
   machines' workers would). Meanwhile this process plays two dashboard users:
   the inbox page's reads, and a write every tenth action, 50 ms apart; it prints
   the actions per second the store served them and any error a person would see.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harness import Query, in_fresh_process, search_page, serve

COMPLAINTS = [
    "Acme delivery never arrived and nobody answers the phone",
    "The Acme app crashed at checkout and charged me twice",
    "Cold coffee again at Acme, and the barista rolled her eyes at me",
    "Still waiting for my Acme refund after three weeks",
    "Acme prices went up again, this is a rip-off",
    "Found a hair in my Acme sandwich, disgusting",
    "El pedido de Acme nunca llegó y nadie contesta",
    "Acme的外卖送到的时候全凉了，再也不点了",
]
PRAISE = [
    "Lovely coffee from Acme this morning, thank you",
    "The Acme team sorted my order in minutes, great service",
    "Acme的咖啡很好喝，服务也很好",
]
QUESTIONS = ["Does Acme open on Sundays?", "Is the Acme loyalty card worth it?"]


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    hits = []
    for i in range(n):
        pool = rng.choices((COMPLAINTS, PRAISE, QUESTIONS), weights=(6, 3, 1))[0]
        text = f"{rng.choice(pool)} (order {10_000 + i})"
        hits.append(
            {
                "objectID": str(500_000 + i),
                "created_at_i": 1_900_000_000 + i,
                "author": f"user{i % 700}",
                "comment_text": text,
            }
        )
    return hits


def serve_hits(hits: list[dict[str, Any]]) -> tuple[ThreadingHTTPServer, str]:
    """An Algolia-shaped search over ``hits``, 100 a page.

    Query "warm": the first ``WARM_UP``; "half-a" and "half-b": the first and second half.
    """

    def answer(query: Query) -> tuple[int, dict[str, str], bytes]:
        asked = query.get("query", [""])[0]
        halves = {"half-a": hits[: len(hits) // 2], "half-b": hits[len(hits) // 2 :]}
        pool = hits[:WARM_UP] if asked == "warm" else halves.get(asked, hits)
        return 200, {"Content-Type": "application/json"}, json.dumps(search_page(pool, query, 100)).encode()

    server = serve(answer)
    return server, f"http://127.0.0.1:{server.server_address[1]}/search"


WARM_UP = 50  # mentions the warm-up run collects (the source's "warm" query)


def settings_file(
    folder: Path,
    url: str,
    pages: int,
    query: str = "acme",
    store: str = "",
    sources: tuple[str, ...] = ("hn",),
) -> Path:
    """Settings for Acme with one Algolia-shaped source per name in ``sources`` (their queries: the names)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "voxwatch.toml"
    feeds = "".join(
        f'[[sources]]\nname = "{name}"\nkind = "hackernews"\nurl = "{url}"\n'
        f'query = "{query if name == "hn" else name}"\nmin_request_interval_seconds = 0\n\n'
        for name in sources
    )
    path.write_text(
        f'[brand]\nname = "Acme"\n\n[collect]\nmax_pages_per_run = {pages}\n\n{store}'
        + feeds
        + '[[responders]]\nname = "amy"\ndisplay_name = "Amy"\nteam = "care"\n\n'
        '[routing]\ndefault_team = "care"\n',
        encoding="utf-8",
    )
    return path


def voxwatch(*args: str, folder: Path, stdin: Path | None = None) -> float:
    """Seconds one ``voxwatch`` command takes, as a user runs it."""
    env = os.environ | {"VOXWATCH_LOG_FILE": str(folder / "voxwatch.log")}
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as given:
        done = subprocess.run(
            [sys.executable, "-m", "voxwatch", *args], env=env, stdin=given, capture_output=True, timeout=3600
        )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"voxwatch {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]!r}")
    return took


def warm_runs(args: tuple[str, str, list[str]], out: Any) -> None:
    """In a fresh process, as ``voxwatch serve`` runs: warm up, then time a run and the scorer alone."""
    warm, config, texts = args
    os.environ["VOXWATCH_LOG_FILE"] = str(Path(config).parent / "voxwatch.log")
    from flows.pipeline import pipeline_flow
    from flows.score import load_model
    from voxwatch.settings import load_settings

    pipeline_flow(warm)  # Prefect's server, the model and its routes: what a served process holds
    start = time.perf_counter()
    pipeline_flow(config)
    run = time.perf_counter() - start
    scorer = load_model.fn(load_settings(config))
    start = time.perf_counter()
    scorer.score(texts)
    out.put({"run": run, "score": time.perf_counter() - start})


def counts(config: Path) -> dict[str, int]:
    """Rows the run left in the store that ``config`` names."""
    from voxwatch.settings import load_settings
    from voxwatch.store import store_for

    return store_for(load_settings(config)).read(
        lambda conn: {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("mentions", "scores", "triage", "cases")
        }
    )


class DashboardUsers(threading.Thread):
    """A person at the dashboard while the pipeline runs: inbox reads, a write every tenth action.

    A person clicks, reads and clicks again: ``THINK_SECONDS`` between actions, so
    two of them ask at most about 40 actions a second and leave the CPU to the
    pipeline, as people do; what the store then serves is the figure.
    """

    def __init__(self, config: Path) -> None:
        super().__init__(daemon=True)
        from voxwatch.settings import load_settings
        from voxwatch.store import store_for

        self.store = store_for(load_settings(config))
        self.stop = threading.Event()
        self.actions = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from datetime import UTC, datetime

        from voxwatch.store import queries

        while not self.stop.is_set():
            try:
                if self.actions % 10 == 9:  # "sign out everywhere": a small write, as a claim is
                    self.store.write(lambda c: queries.raise_session_generation(c, "amy", datetime.now(UTC)))
                else:
                    self.store.read(lambda c: (queries.inbox(c, "any", 200), queries.open_load(c)))
                self.actions += 1
            except Exception as exc:  # counted and shown: a person would have seen it
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            self.stop.wait(THINK_SECONDS)


THINK_SECONDS = 0.05
USERS = 2


def engine_run(configs: list[Path], sources: list[str | None]) -> dict[str, Any]:
    """Every config's ``voxwatch run`` (one per source) at once, with dashboard users beside them."""
    from voxwatch.settings import load_settings
    from voxwatch.store import store_for

    store_for(load_settings(configs[0])).migrate()  # the dashboard opens on a store that exists
    people = [DashboardUsers(configs[0]) for _ in range(USERS)]
    env = os.environ | {"VOXWATCH_LOG_FILE": str(configs[0].parent / "voxwatch.log")}
    start = time.perf_counter()
    for person in people:
        person.start()
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "voxwatch", "run", "--config", str(config)]
            + (["--source", source] if source else []),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for config, source in zip(configs, sources, strict=True)
    ]
    failed = [r.communicate(timeout=3600)[1][-500:] for r in runs if r.wait(timeout=3600) != 0]
    took = time.perf_counter() - start
    for person in people:
        person.stop.set()
        person.join(timeout=60)
    if failed:
        raise SystemExit(f"voxwatch run failed: {failed}")
    actions = sum(p.actions for p in people)
    errors = [e for p in people for e in p.errors]
    return {"seconds": took, "actions": actions, "errors": errors, "stored": counts(configs[0])}


def engines(url: str, pages: int, root: Path, n: int) -> None:
    """DuckDB with one worker, Postgres with one and with two, dashboard users beside each."""
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from tests.postgres_server import PostgresServer

    halves = ("half-a", "half-b")
    results = {}
    duck = settings_file(root / "duck", url, pages, sources=halves)
    results["duckdb, 1 worker"] = engine_run([duck], [None])
    server = PostgresServer()
    server.start()
    try:
        store = f'[store]\nurl = "{server.database()}"\n\n'
        one = settings_file(root / "pg-one", url, pages, store=store, sources=halves)
        results["postgres, 1 worker"] = engine_run([one], [None])
        store = f'[store]\nurl = "{server.database()}"\n\n'
        two = settings_file(root / "pg-two", url, pages, store=store, sources=halves)
        results["postgres, 2 workers"] = engine_run([two, two], list(halves))
    finally:
        server.stop()
    base = results["duckdb, 1 worker"]["seconds"]
    print(f"engines, {n} mentions over two sources, fetch to routed cases, dashboard users beside:")
    for name, r in results.items():
        rate = r["actions"] / r["seconds"]
        speed = (
            f"{r['seconds']:6.1f} s {n / r['seconds']:6.1f} mentions/s ({base / r['seconds']:.2f}x DuckDB)"
        )
        print(
            f"  {name:20} {speed}  dashboard {rate:6.1f} actions/s, "
            f"{len(r['errors'])} error(s) shown  stored {r['stored']}"
        )
        for error in sorted(set(r["errors"]))[:3]:
            print(f"    error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--one-machine", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    hits = generate(args.n, args.seed)
    server, url = serve_hits(hits)
    pages = -(-args.n // 100) + 1
    with tempfile.TemporaryDirectory(prefix="voxwatch-scale-") as tmp:
        if args.one_machine:
            one_machine(hits, url, pages, Path(tmp) / "one", args.n)
        if args.engines:
            engines(url, pages, Path(tmp) / "engines", args.n)
    server.shutdown()


def one_machine(hits: list[dict[str, Any]], url: str, pages: int, root: Path, n: int) -> None:
    """Sections 1-4: the pipeline as commands and as a served process, against scoring alone."""
    whole = settings_file(root / "whole", url, pages)
    e2e = voxwatch("run", "--config", str(whole), folder=whole.parent)
    stored = counts(whole)

    split = settings_file(root / "split", url, pages)
    collect = voxwatch("collect", "--config", str(split), folder=split.parent)
    rest = voxwatch("run", "--config", str(split), folder=split.parent)

    lines = root / "texts.jsonl"
    lines.write_text("".join(json.dumps({"text": h["comment_text"]}) + "\n" for h in hits), encoding="utf-8")
    scoring = voxwatch("score", "--input", str(lines), "--output", str(root / "scored.jsonl"), folder=root)

    warm = settings_file(root / "warm-up", url, pages, query="warm")
    served = settings_file(root / "served", url, pages)
    texts = [h["comment_text"] for h in hits]
    warm_figures = in_fresh_process(warm_runs, (str(warm), str(served), texts))
    served_counts = counts(served)

    print(f"{n} mentions; stored {stored}")
    print(f"voxwatch run, fetch to routed cases: {e2e:6.1f} s  {n / e2e:6.1f} mentions/s")
    print(f"  of which voxwatch collect alone:   {collect:6.1f} s; then run (score + route): {rest:6.1f} s")
    print(f"voxwatch score, same texts:          {scoring:6.1f} s  {n / scoring:6.1f} texts/s")
    print(f"pipeline / scoring alone, both as commands: {scoring / e2e:.2f} (goal >= 0.5)")
    run, alone = warm_figures["run"], warm_figures["score"]
    print(
        f"served (warm process) run:           {run:6.1f} s  {n / run:6.1f} mentions/s",
        f"stored {served_counts}",
    )
    print(f"  the same process scoring alone:    {alone:6.1f} s  {n / alone:6.1f} texts/s")
    print(
        f"served run / voxwatch score: {scoring / run:.2f};",
        f"served run / warm scoring alone: {alone / run:.2f}",
    )


if __name__ == "__main__":
    main()
