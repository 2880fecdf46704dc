"""Replies on Mastodon, from our account on one instance (``POST /api/v1/statuses``).

The delivery's target is the mention's external id, which for Mastodon is the
status URI on the author's server (``https://other.example/users/bob/statuses/1``,
see ``flows.sources.mastodon``). Our instance knows that status by a local id,
found with ``GET /api/v2/search?q=<uri>&type=statuses&resolve=true`` (which
fetches it from the author's server when needed); a bare numeric target is
taken as a local id already.

The reply starts with ``@acct`` of the author unless the text names them
already. Mastodon does not require it, but a reply that mentions nobody is
neither delivered to a remote author's server nor notified to a local one:
without the mention, the person we answer would likely never see the answer.

Posting sends ``Idempotency-Key: <delivery.key>``: Mastodon answers a repeat of
the same key (kept for an hour) with the status it already made, so a retry after
a lost answer does not post twice. Beyond that hour, ``find`` looks through our
account's last 40 statuses for a reply to the same status with the same words.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import SecretStr

from responders.publishing.base import Delivery, Posted
from responders.publishing.errors import about
from responders.publishing.http import JsonApi, pick
from voxwatch.errors import PublishError

Visibility = Literal["public", "unlisted", "private", "direct"]
RECENT = 40  # statuses find() looks through: the API's maximum page
MATCH_CHARS = 40  # the head of the text a found status must contain
TAG = re.compile(r"<[^>]+>")
BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
SPACE = re.compile(r"\s+")
REMOTE_HANDLE = re.compile(r"@(\w+)@[\w.-]+\w")


def plain(content: str) -> str:
    """A status's HTML as one line of text (tags dropped, entities read, spaces collapsed)."""
    return SPACE.sub(" ", html.unescape(TAG.sub("", BREAK.sub(" ", content)))).strip()


def comparable(text: str) -> str:
    """Text as Mastodon shows it: ``@bob@other.example`` is rendered ``@bob``."""
    return REMOTE_HANDLE.sub(r"@\1", text)


def mentions(text: str, acct: str) -> bool:
    """Whether ``text`` already names ``@acct`` (not merely a longer handle that starts the same)."""
    return re.search(rf"(?<![\w@]){re.escape('@' + acct)}(?![\w@])", text, re.IGNORECASE) is not None


def with_mention(text: str, acct: str | None) -> str:
    """``text`` starting with ``@acct `` unless it names them already (see the module's docstring)."""
    if not acct or mentions(text, acct):
        return text
    return f"@{acct} {text}"


def posted_time(status: Any) -> datetime | None:
    """The status's ``created_at`` (ISO 8601, UTC), or None when it is missing or unreadable."""
    try:
        when = datetime.fromisoformat(str(pick(status, "created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


class MastodonPublisher:
    """Posts replies as the account whose access token it holds (scopes: read, write:statuses)."""

    name = "mastodon"

    def __init__(
        self, base_url: str, token: SecretStr, timeout: float = 15.0, visibility: Visibility = "public"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.visibility = visibility
        self.api = JsonApi("Mastodon", self.base_url, timeout, lambda: (token.get_secret_value(),))

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"}
        return headers | ({"Idempotency-Key": key} if key else {})

    def publish(self, delivery: Delivery) -> Posted:
        parent = self._parent(delivery)
        body: dict[str, Any] = {
            "status": with_mention(delivery.text, pick(parent, "account", "acct")),
            "in_reply_to_id": str(parent["id"]),
            "visibility": self.visibility,
        }
        if delivery.extra.get("lang"):
            body["language"] = delivery.extra["lang"]
        doing = f"posting the reply for {about(delivery)}"
        status = self.api.call(
            "POST", "/api/v1/statuses", doing, json=body, headers=self._headers(delivery.key)
        )
        return self._posted(status, doing)

    def find(self, delivery: Delivery) -> Posted | None:
        target = delivery.target.strip()
        parent_id = target if target.isdigit() else str(self._parent(delivery)["id"])
        head = comparable(plain(html.escape(delivery.text)))[:MATCH_CHARS]
        for status in self._recent(delivery):
            shown = comparable(plain(str(status.get("content") or "")))
            if str(status.get("in_reply_to_id")) == parent_id and head in shown:
                return self._posted(status, f"looking for the reply for {about(delivery)}")
        return None

    def _parent(self, delivery: Delivery) -> dict[str, Any]:
        """The status we answer, as our instance knows it (its local id and author)."""
        target = delivery.target.strip()
        doing = f"finding the post {target} that {about(delivery)} answers"
        if target.isdigit():
            status = self.api.call("GET", f"/api/v1/statuses/{target}", doing, headers=self._headers())
        else:
            params = {"q": target, "type": "statuses", "resolve": "true", "limit": "1"}
            found = self.api.call("GET", "/api/v2/search", doing, params=params, headers=self._headers())
            status = pick(found, "statuses", 0)
        if not isinstance(status, dict) or not pick(status, "id"):
            raise PublishError(
                f"Mastodon: {doing}: {self.base_url} does not know it "
                "(deleted, not public, or its server did not answer); nothing was posted"
            )
        return status

    def _recent(self, delivery: Delivery) -> list[dict[str, Any]]:
        """Our account's latest statuses, replies included, boosts left out."""
        doing = f"looking for an earlier reply for {about(delivery)}"
        me = self.api.call("GET", "/api/v1/accounts/verify_credentials", doing, headers=self._headers())
        if not pick(me, "id"):
            raise self.api.error(doing, "verify_credentials answered without an account id")
        params = {"limit": str(RECENT), "exclude_reblogs": "true"}
        path = f"/api/v1/accounts/{me['id']}/statuses"
        statuses = self.api.call("GET", path, doing, params=params, headers=self._headers())
        return [s for s in statuses if isinstance(s, dict)] if isinstance(statuses, list) else []

    def _posted(self, status: Any, doing: str) -> Posted:
        if not pick(status, "id"):
            raise self.api.error(doing, "the answer is not a status (no id)")
        return Posted(str(status["id"]), pick(status, "url") or pick(status, "uri"), posted_time(status))
