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
alone (issue 16 asks for at least 0.5). This is the baseline for making the
stages set-based; the Postgres and multi-worker columns come with that store.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
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
    """An Algolia-shaped search over ``hits`` (the first ``WARM_UP`` for the "warm" query), 100 a page."""

    def answer(query: Query) -> tuple[int, dict[str, str], bytes]:
        pool = hits[:WARM_UP] if query.get("query", [""])[0] == "warm" else hits
        return 200, {"Content-Type": "application/json"}, json.dumps(search_page(pool, query, 100)).encode()

    server = serve(answer)
    return server, f"http://127.0.0.1:{server.server_address[1]}/search"


WARM_UP = 50  # mentions the warm-up run collects (the source's "warm" query)


def settings_file(folder: Path, url: str, pages: int, query: str = "acme") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "voxwatch.toml"
    path.write_text(
        f'[brand]\nname = "Acme"\n\n[collect]\nmax_pages_per_run = {pages}\n\n'
        f'[[sources]]\nname = "hn"\nkind = "hackernews"\nurl = "{url}"\nquery = "{query}"\n'
        "min_request_interval_seconds = 0\n\n"
        '[[responders]]\nname = "amy"\ndisplay_name = "Amy"\nteam = "care"\n\n'
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


def counts(db: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in ("mentions", "scores", "triage", "cases")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    hits = generate(args.n, args.seed)
    server, url = serve_hits(hits)
    pages = -(-args.n // 100) + 1
    with tempfile.TemporaryDirectory(prefix="voxwatch-scale-") as tmp:
        root = Path(tmp)
        whole = settings_file(root / "whole", url, pages)
        e2e = voxwatch("run", "--config", str(whole), folder=whole.parent)
        stored = counts(whole.parent / "voxwatch.duckdb")

        split = settings_file(root / "split", url, pages)
        collect = voxwatch("collect", "--config", str(split), folder=split.parent)
        rest = voxwatch("run", "--config", str(split), folder=split.parent)

        lines = root / "texts.jsonl"
        lines.write_text(
            "".join(json.dumps({"text": h["comment_text"]}) + "\n" for h in hits), encoding="utf-8"
        )
        scoring = voxwatch(
            "score", "--input", str(lines), "--output", str(root / "scored.jsonl"), folder=root
        )

        warm = settings_file(root / "warm-up", url, pages, query="warm")
        served = settings_file(root / "served", url, pages)
        texts = [h["comment_text"] for h in hits]
        warm_figures = in_fresh_process(warm_runs, (str(warm), str(served), texts))
        served_counts = counts(served.parent / "voxwatch.duckdb")
    server.shutdown()

    n = args.n
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
