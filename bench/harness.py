"""What several benchmarks share: a fresh process to measure in, and a local Algolia-shaped source.

Imported by the scripts beside it (``python bench/x.py`` puts this folder on the path).

* :func:`in_fresh_process` runs ``target(args, queue)`` in a spawned process, so
  its peak memory and imports are its own, and returns what it put on the queue;
* :func:`search_page` answers one Hacker News Algolia ``search_by_date`` request
  over a list of hits (newest first, ``numericFilters=created_at_i>X``, paged);
* :func:`serve` runs any ``answer(query) -> (status, headers, body)`` on a free
  port of 127.0.0.1, in a daemon thread.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Query = dict[str, list[str]]
Answer = Callable[[Query], tuple[int, dict[str, str], bytes]]


def in_fresh_process(target: Any, args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(args, queue))
    process.start()
    result = queue.get()
    process.join()
    return dict(result)


def search_page(hits: Sequence[dict[str, Any]], query: Query, per: int) -> dict[str, Any]:
    """One page of the hits newer than the query's ``created_at_i>`` filter, newest first."""
    since = 0
    for part in query.get("numericFilters", [""])[0].split(","):
        if part.startswith("created_at_i>"):
            since = int(part.removeprefix("created_at_i>"))
    found = sorted((h for h in hits if h["created_at_i"] > since), key=lambda h: -h["created_at_i"])
    page = int(query.get("page", ["0"])[0])
    return {
        "hits": found[page * per : (page + 1) * per],
        "page": page,
        "nbPages": max(1, -(-len(found) // per)),
        "hitsPerPage": per,
        "nbHits": len(found),
    }


def serve(answer: Answer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = answer(parse_qs(urlsplit(self.path).query))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
