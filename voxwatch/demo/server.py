"""A local HTTP server with a sample week of public posts about a made-up brand.

It answers in the shapes of real sources, so the demo exercises the real
connectors: a Reddit-style Atom search feed, a shop page with schema.org
``Review``s in JSON-LD, and the Hacker News Algolia ``search_by_date`` API
(honouring ``numericFilters=created_at_i>X``). Posts are dated relative to the
start of the current hour, so the demo always shows "this week"; within one hour
every body is byte-identical and ETags let a second run get 304s.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from voxwatch.demo.mastodon import ACCOUNT, DemoMastodon

ATOM = "http://www.w3.org/2005/Atom"
# The demo's own Bluesky stand-in accepts only this account; `voxwatch demo` puts it
# in its environment, the way a real app password would arrive.
DEMO_BLUESKY_ACCOUNT = ("care.larkspur.demo", "demo-app-password")
DEMO_BLUESKY_TOKEN = "demo-access-token"


def load_week() -> dict[str, Any]:
    return json.loads(resources.files("voxwatch.demo").joinpath("week.json").read_text(encoding="utf-8"))


class SampleWeek:
    """Renders the sample posts in each source's format, dated from ``anchor``."""

    def __init__(self, anchor: datetime, week: dict[str, Any] | None = None) -> None:
        self.anchor = anchor
        self.week = week or load_week()

    def _at(self, item: dict[str, Any]) -> datetime:
        return self.anchor - timedelta(hours=item["hours_ago"])

    @cached_property
    def reddit_atom(self) -> bytes:
        ET.register_namespace("", ATOM)
        feed = ET.Element(f"{{{ATOM}}}feed")
        ET.SubElement(feed, f"{{{ATOM}}}title").text = "search results - larkspur"
        ET.SubElement(feed, f"{{{ATOM}}}id").text = "/r/larkspur/search.rss?q=larkspur"
        ET.SubElement(feed, f"{{{ATOM}}}updated").text = self.anchor.isoformat()
        for post in sorted(self.week["reddit"], key=lambda p: p["hours_ago"]):
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            author = ET.SubElement(entry, f"{{{ATOM}}}author")
            ET.SubElement(author, f"{{{ATOM}}}name").text = post["author"]
            content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
            content.text = f'<div class="md"><p>{html.escape(post["text"])}</p></div>'
            ET.SubElement(entry, f"{{{ATOM}}}id").text = post["id"]
            slug = re.sub(r"[^a-z0-9]+", "_", post["title"].lower()).strip("_")[:40]
            link = f"https://www.reddit.com/r/larkspur/comments/{post['id'][3:]}/{slug}/"
            ET.SubElement(entry, f"{{{ATOM}}}link", href=link)
            stamp = self._at(post).isoformat()
            ET.SubElement(entry, f"{{{ATOM}}}updated").text = stamp
            ET.SubElement(entry, f"{{{ATOM}}}published").text = stamp
            ET.SubElement(entry, f"{{{ATOM}}}title").text = post["title"]
        return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(feed, encoding="utf-8")

    @cached_property
    def shop_page(self) -> bytes:
        reviews = [
            {
                "@type": "Review",
                "@id": f"/shop/home-brew-kit#review-{index}",
                "author": {"@type": "Person", "name": r["author"]},
                "datePublished": self._at(r).isoformat(),
                "name": r["title"],
                "reviewBody": r["text"],
                "reviewRating": {"@type": "Rating", "ratingValue": r["rating"], "bestRating": 5},
            }
            for index, r in enumerate(self.week["reviews"], start=1)
        ]
        ratings = [r["rating"] for r in self.week["reviews"]]
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": "Larkspur Home Brew Kit",
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": round(sum(ratings) / len(ratings), 1),
                "reviewCount": len(ratings),
            },
            "review": reviews,
        }
        # "</" inside a script element would end it; JSON allows "<\/" for the same text.
        data = json.dumps(product, ensure_ascii=False, indent=1).replace("</", "<\\/")
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Larkspur Home Brew Kit</title>"
            f'<script type="application/ld+json">{data}</script></head>'
            "<body><h1>Larkspur Home Brew Kit</h1><p>Everything you need for cafe coffee at home.</p>"
            "</body></html>"
        )
        return page.encode("utf-8")

    def mastodon_items(self) -> list[dict[str, Any]]:
        """The week's statuses with the URI their own server gives them (what a reply answers)."""
        items = []
        for item in self.week["mastodon"]:
            user, _, server = item["author"].partition("@")
            items.append(item | {"uri": f"https://{server}/users/{user}/statuses/{item['id']}"})
        return items

    def mastodon_tag(self, min_id: int | None, answers: list[dict[str, Any]] | None = None) -> bytes:
        """The tag timeline, newest first: the week's statuses and customers' answers to our replies."""
        posts = [(self._at(item), item) for item in self.week["mastodon"]]
        posts += [(answer["at"], answer) for answer in answers or []]
        statuses = []
        for at, item in sorted(posts, key=lambda p: p[0], reverse=True):
            if min_id is not None and int(item["id"]) <= min_id:
                continue
            user, _, server = item["author"].partition("@")
            statuses.append(
                {
                    "id": item["id"],
                    "created_at": at.isoformat().replace("+00:00", "Z"),
                    "uri": f"https://{server}/users/{user}/statuses/{item['id']}",
                    "url": f"https://{server}/@{user}/{item['id']}",
                    "content": f"<p>{html.escape(item['text'])}</p>",
                    "spoiler_text": "",
                    "reblog": None,
                    "language": "en",
                    "in_reply_to_id": item.get("in_reply_to_id"),
                    "account": {
                        "acct": item["author"],
                        "username": user,
                        "followers_count": item["followers"],
                    },
                }
            )
        return json.dumps(statuses).encode("utf-8")

    def appstore_feed(self) -> bytes:
        metadata = {
            "im:name": {"label": "Larkspur Coffee"},
            "id": {
                "label": "https://apps.apple.com/cn/app/id1234567890",
                "attributes": {"im:id": "1234567890"},
            },
            "title": {"label": "Larkspur Coffee - Larkspur Coffee Co."},
        }
        reviews = [
            {
                "author": {"name": {"label": r["author"]}},
                "updated": {"label": self._at(r).isoformat()},
                "im:rating": {"label": str(r["rating"])},
                "id": {"label": r["id"]},
                "title": {"label": r["title"]},
                "content": {"label": r["text"], "attributes": {"type": "text"}},
                "link": {
                    "attributes": {
                        "rel": "related",
                        "href": "https://itunes.apple.com/cn/review?id=1234567890",
                    }
                },
            }
            for r in sorted(self.week["appstore"], key=lambda r: r["hours_ago"])
        ]
        return json.dumps({"feed": {"entry": [metadata, *reviews]}}, ensure_ascii=False).encode("utf-8")

    def bluesky_search(self, since: str | None) -> bytes:
        posts = []
        for item in sorted(self.week["bluesky"], key=lambda i: i["hours_ago"]):
            created = self._at(item).isoformat().replace("+00:00", "Z")
            if since and created <= since:
                continue
            posts.append(
                {
                    "uri": f"at://did:plc:{item['author'].split('.')[0]}/app.bsky.feed.post/{item['rkey']}",
                    "author": {"handle": item["author"]},
                    "record": {"text": item["text"], "createdAt": created},
                }
            )
        return json.dumps({"posts": posts}, ensure_ascii=False).encode("utf-8")

    def algolia_search(self, after: int | None) -> bytes:
        hits = []
        for item in sorted(self.week["hackernews"], key=lambda i: i["hours_ago"]):
            created = self._at(item)
            stamp = int(created.timestamp())
            if after is not None and stamp <= after:
                continue
            hits.append(
                {
                    "objectID": item["id"],
                    "author": item["author"],
                    "comment_text": f"<p>{html.escape(item['text'])}</p>",
                    "story_title": item["story"],
                    "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "created_at_i": stamp,
                    "_tags": ["comment", f"author_{item['author']}"],
                }
            )
        payload = {"hits": hits, "nbHits": len(hits), "page": 0, "nbPages": 1, "hitsPerPage": 100}
        return json.dumps(payload).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: DemoServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI prints a summary
        pass

    def _send(self, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        week = self.server.week
        if url.path == "/robots.txt":
            self._send(b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
        elif url.path == "/r/larkspur/search.rss":
            self._send(week.reddit_atom, "application/atom+xml; charset=UTF-8")
        elif url.path == "/shop/home-brew-kit":
            self._send(week.shop_page, "text/html; charset=utf-8")
        elif url.path == "/api/v1/search_by_date":
            filters = parse_qs(url.query).get("numericFilters", [""])[0]
            match = re.fullmatch(r"created_at_i>(\d+)", filters)
            self._send(
                week.algolia_search(int(match.group(1)) if match else None), "application/json; charset=utf-8"
            )
        elif url.path == "/api/v2/instance":
            access = {"hashtag_feeds": {"local": "public", "remote": "public"}}
            self._send(
                json.dumps({"configuration": {"timelines_access": access}}).encode(), "application/json"
            )
        elif url.path == "/api/v1/timelines/tag/larkspur":
            min_id = parse_qs(url.query).get("min_id", [None])[0]
            answers = list(self.server.mastodon.follow_ups)
            body = week.mastodon_tag(int(min_id) if min_id else None, answers)
            self._send(body, "application/json; charset=utf-8")
        elif url.path.startswith(("/api/v2/search", "/api/v1/accounts/")):
            self._mastodon_get(url.path, parse_qs(url.query))
        elif url.path == "/cn/rss/customerreviews/page=1/id=1234567890/sortby=mostrecent/json":
            self._send(week.appstore_feed(), "application/json; charset=utf-8")
        elif url.path == "/xrpc/app.bsky.feed.searchPosts":
            if self.headers.get("Authorization") != f"Bearer {DEMO_BLUESKY_TOKEN}":
                self.send_error(401)
                return
            since = parse_qs(url.query).get("since", [None])[0]
            self._send(week.bluesky_search(since), "application/json; charset=utf-8")
        else:
            self.send_error(404)

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _mastodon_get(self, path: str, query: dict[str, list[str]]) -> None:
        mastodon = self.server.mastodon
        if not mastodon.authorised(self.headers):
            self._json(401, {"error": "The access token is invalid"})
        elif path == "/api/v2/search":
            self._json(*mastodon.search(query.get("q", [""])[0]))
        elif path == "/api/v1/accounts/verify_credentials":
            self._json(200, ACCOUNT)
        elif path == f"/api/v1/accounts/{ACCOUNT['id']}/statuses":
            self._json(*mastodon.our_statuses(int(query.get("limit", ["20"])[0])))
        else:
            self._json(404, {"error": "Record not found"})

    def _mastodon_post(self, raw: bytes) -> None:
        mastodon = self.server.mastodon
        if not mastodon.authorised(self.headers):
            self._json(401, {"error": "The access token is invalid"})
            return
        if "json" in (self.headers.get("Content-Type") or ""):
            params = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        self._json(*mastodon.post(params, self.headers.get("Idempotency-Key")))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if urlsplit(self.path).path == "/api/v1/statuses":
            self._mastodon_post(raw)
            return
        body = json.loads(raw or b"{}")
        if urlsplit(self.path).path != "/xrpc/com.atproto.server.createSession":
            self.send_error(404)
        elif (body.get("identifier"), body.get("password")) != DEMO_BLUESKY_ACCOUNT:
            self.send_error(401)
        else:
            payload = {"accessJwt": DEMO_BLUESKY_TOKEN, "did": "did:plc:larkspurdemo"}
            self._send(json.dumps(payload).encode(), "application/json")


class DemoServer(ThreadingHTTPServer):
    """``with DemoServer() as server:`` serves in a background thread on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, port: int = 0, anchor: datetime | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        now = datetime.now(UTC)
        self.week = SampleWeek(anchor or now.replace(minute=0, second=0, microsecond=0))
        self.mastodon = DemoMastodon(self.base_url, self.week.mastodon_items())
        self._thread = threading.Thread(target=self.serve_forever, name="voxwatch-demo-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
