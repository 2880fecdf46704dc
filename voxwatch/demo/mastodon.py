"""The demo's Mastodon instance, as far as replying needs: our account, posting, search, our statuses.

Shapes follow docs.joinmastodon.org: ``POST /api/v1/statuses`` (form or JSON,
``Idempotency-Key`` answering a repeat with the status already made),
``GET /api/v2/search?q=<uri>&resolve=true``, ``GET /api/v1/accounts/verify_credentials``
and ``GET /api/v1/accounts/:id/statuses``. The sample week's statuses are the
remote ones a reply answers. A customer the week gives a ``follow_up`` answers
our reply a minute after it, on the tag timeline the demo collects, so the
next run shows the loop closing.
"""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_MASTODON_TOKEN = "demo-mastodon-token"  # `voxwatch demo` puts it in its environment
ACCOUNT = {"id": "1", "username": "larkspurcare", "acct": "larkspurcare", "display_name": "Larkspur Care"}
FOLLOW_UP_DELAY = timedelta(minutes=1)

Answer = tuple[int, Any]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DemoMastodon:
    """Replies posted to the demo's instance, kept in memory for as long as the demo serves."""

    def __init__(self, base_url: str, remote: list[dict[str, Any]]) -> None:
        self.base_url = base_url
        self.remote = {item["uri"]: item for item in remote}  # statuses of the week, by URI
        self.posted: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.follow_ups: list[dict[str, Any]] = []  # customers' answers, for the tag timeline
        self.next_id = 114_000_000_000_000_000
        self.lock = threading.Lock()

    def authorised(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == f"Bearer {DEMO_MASTODON_TOKEN}")

    def search(self, query: str) -> Answer:
        item = self.remote.get(query)
        statuses = [self._remote_status(item)] if item else []
        return 200, {"accounts": [], "statuses": statuses, "hashtags": []}

    def our_statuses(self, limit: int) -> Answer:
        with self.lock:
            mine = sorted(self.posted.values(), key=lambda s: int(s["id"]), reverse=True)
        return 200, mine[: min(limit, 40)]

    def post(self, params: dict[str, Any], key: str | None) -> Answer:
        """Post a reply; a repeated Idempotency-Key gets the status made the first time."""
        text = str(params.get("status") or "").strip()
        if not text:
            return 422, {"error": "Validation failed: Text can't be blank"}
        if len(text) > 500:
            return 422, {"error": "Validation failed: Text character limit of 500 exceeded"}
        with self.lock:
            if key and key in self.by_key:
                return 200, self.posted[self.by_key[key]]
            parent = next((i for i in self.remote.values() if i["id"] == params.get("in_reply_to_id")), None)
            status = self._new_status(text, parent)
            if key:
                self.by_key[key] = status["id"]
            if parent and parent.get("follow_up"):
                self._customer_answers(parent, status)
        return 200, status

    def _new_status(self, text: str, parent: dict[str, Any] | None) -> dict[str, Any]:
        self.next_id += 1
        status_id = str(self.next_id)
        status = {
            "id": status_id,
            "created_at": _iso(datetime.now(UTC)),
            "in_reply_to_id": parent["id"] if parent else None,
            "visibility": "public",
            "uri": f"{self.base_url}/users/larkspurcare/statuses/{status_id}",
            "url": f"{self.base_url}/@larkspurcare/{status_id}",
            "content": f"<p>{html.escape(text)}</p>",
            "account": ACCOUNT,
            "reblog": None,
        }
        self.posted[status_id] = status
        return status

    def _customer_answers(self, parent: dict[str, Any], reply: dict[str, Any]) -> None:
        said = datetime.fromisoformat(reply["created_at"].replace("Z", "+00:00")) + FOLLOW_UP_DELAY
        self.next_id += 1
        self.follow_ups.append(
            {
                "id": str(self.next_id),
                "author": parent["author"],
                "followers": parent["followers"],
                "at": said,
                "text": parent["follow_up"],
                "in_reply_to_id": reply["id"],
            }
        )

    def _remote_status(self, item: dict[str, Any]) -> dict[str, Any]:
        user, _, server = item["author"].partition("@")
        return {
            "id": item["id"],
            "uri": item["uri"],
            "url": f"https://{server}/@{user}/{item['id']}",
            "content": f"<p>{html.escape(item['text'])}</p>",
            "account": {"id": f"remote-{user}", "username": user, "acct": item["author"]},
        }
