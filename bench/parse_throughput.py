"""Parsing throughput: our RSS and JSON-LD parsers vs a plain baseline, same run.

    python bench/parse_throughput.py [--seconds 3]

RSS: ``flows.sources.rss.parse`` (feedparser plus markup stripping and dates)
against bare ``feedparser.parse`` on the same feed. JSON-LD: our parser (lxml
XPath to the script blocks, then JSON) against the plain BeautifulSoup way
(html.parser, find_all, json.loads). Prints mentions per second and the ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from bs4 import BeautifulSoup

from flows.sources import jsonld, rss
from voxwatch.domain import RawResponse

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"


def per_second(fn: Callable[[], int], seconds: float) -> float:
    fn()  # warm up
    done, items, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        items += fn()
        done += 1
    return items / (time.perf_counter() - start)


def baseline_jsonld(body: bytes) -> int:
    soup = BeautifulSoup(body, "html.parser")
    count = 0
    for script in soup.find_all("script", type="application/ld+json"):
        data = json.loads(script.get_text(), strict=False)
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                count += node.get("@type") == "Review"
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    now = datetime.now(UTC)
    feed = (FIXTURES / "stackoverflow_atom.xml").read_bytes()
    page = (FIXTURES / "recipe_page_15_reviews.html").read_bytes()
    feed_raw = RawResponse("bench", 200, {"content-type": "application/atom+xml"}, feed, now)
    page_raw = RawResponse("bench", 200, {"content-type": "text/html"}, page, now)

    rows = [
        ("RSS/Atom", lambda: len(rss.parse(feed_raw).mentions), lambda: len(feedparser.parse(feed).entries)),
        ("JSON-LD", lambda: len(jsonld.parse(page_raw).mentions), lambda: baseline_jsonld(page)),
    ]
    print(f"{'parser':10} {'ours/s':>10} {'baseline/s':>11} {'ratio':>7}")
    for name, ours, baseline in rows:
        mine, base = per_second(ours, args.seconds), per_second(baseline, args.seconds)
        print(f"{name:10} {mine:10.0f} {base:11.0f} {mine / base:6.2f}x")


if __name__ == "__main__":
    main()
