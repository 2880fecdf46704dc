"""A Mastodon instance, as far as replying needs: statuses, search with resolve, our account.

Shapes follow docs.joinmastodon.org: ``POST /api/v1/statuses`` (form or JSON;
``Idempotency-Key`` answers a repeat with the status already made),
``GET /api/v2/search?q=&type=statuses&resolve=true``, ``GET /api/v1/statuses/:id``,
``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id/statuses``.
Errors are ``{"error": "..."}`` with Mastodon's statuses and words (401 for a bad
token, 404 "Record not found", 422 "Validation failed: ..."). Content is HTML
the way Mastodon renders it: paragraphs, ``<br />``, mentions as h-cards
showing ``@user`` without the domain.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeApi, json_response

MAX_CHARS = 500
VISIBILITIES = ("public", "unlisted", "private", "direct")
MENTION = re.compile(r"@(\w+)(?:@([\w.-]+\w))?")


def render(text: str, local_domain: str) -> str:
    """Plain text as Mastodon's HTML: paragraphs, line breaks, mentions as h-cards."""

    def mention(match: re.Match[str]) -> str:
        user, domain = match.group(1), match.group(2) or local_domain
        return (
            f'<span class="h-card" translate="no"><a href="https://{domain}/@{user}" '
            f'class="u-url mention">@<span>{user}</span></a></span>'
        )

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    rendered = [MENTION.sub(mention, html.escape(p, quote=False)).replace("\n", "<br />") for p in paragraphs]
    return "".join(f"<p>{p}</p>" for p in rendered)


class FakeMastodon(FakeApi):
    """Our instance, our account (``acct``), and remote statuses added with ``add_remote_status``."""

    def __init__(self, token: str = "mastodon-token-s3cret-value", acct: str = "acmecare") -> None:
        super().__init__()
        self.token = token
        self.me = {"id": "1", "username": acct, "acct": acct, "display_name": "Acme Care"}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.next_id = 110_000_000_000_000_000
        self.accounts = 1

    # --- set-up and inspection -----------------------------------------------------------

    def add_remote_status(
        self, uri: str, acct: str = "bob@other.example", text: str = "Acme lost my order"
    ) -> str:
        """A status from another server, known here by a new local id (which is returned)."""
        with self.lock:
            self.accounts += 1
            user, _, domain = acct.partition("@")
            account = {"id": str(self.accounts), "username": user, "acct": acct, "display_name": user}
            status = self._status(account, text, None, "public", uri=uri, url=f"https://{domain}/@{user}/1")
            return str(status["id"])

    def our_statuses(self) -> list[dict[str, Any]]:
        with self.lock:
            return [s for s in self.statuses.values() if s["account"]["id"] == self.me["id"]]

    @property
    def domain(self) -> str:
        return self.base_url.split("//", 1)[-1]

    # --- the API ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"error": "The access token is invalid"}, 401)
        path, method = request.path, request.method
        if method == "POST" and path == "/api/v1/statuses":
            return self._post_status(request)
        if method == "GET" and path == "/api/v2/search":
            return self._search(request)
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return json_response(self.me | {"source": {"privacy": "public"}})
        if method == "GET" and (found := re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path)):
            return self._account_statuses(found.group(1), request)
        if method == "GET" and (found := re.fullmatch(r"/api/v1/statuses/(\w+)", path)):
            status = self.statuses.get(found.group(1))
            return json_response(status) if status else json_response({"error": "Record not found"}, 404)
        return json_response({"error": "Record not found"}, 404)

    def _post_status(self, request: Request) -> Response:
        params = (request.get_json(silent=True) if request.is_json else request.form.to_dict()) or {}
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return json_response(self.statuses[self.by_key[key]])
        text = str(params.get("status") or "")
        reply_to = params.get("in_reply_to_id")
        visibility = params.get("visibility") or "public"
        if not text.strip():
            return json_response({"error": "Validation failed: Text can't be blank"}, 422)
        if len(text) > MAX_CHARS:
            return json_response(
                {"error": f"Validation failed: Text character limit of {MAX_CHARS} exceeded"}, 422
            )
        if visibility not in VISIBILITIES:
            return json_response({"error": "Validation failed: Visibility is not included in the list"}, 422)
        if reply_to is not None and str(reply_to) not in self.statuses:
            return json_response({"error": "Record not found"}, 404)
        status = self._status(
            self.me, text, str(reply_to) if reply_to else None, visibility, params.get("language")
        )
        if key:
            self.by_key[key] = str(status["id"])
        return json_response(status)

    def _search(self, request: Request) -> Response:
        query = request.args.get("q", "")
        kinds = request.args.get("type")
        hits = [s for s in self.statuses.values() if query and query in (s["uri"], s["url"])]
        statuses = hits if kinds in (None, "statuses") else []
        return json_response({"accounts": [], "statuses": statuses, "hashtags": []})

    def _account_statuses(self, account_id: str, request: Request) -> Response:
        if account_id != self.me["id"]:
            return json_response({"error": "Record not found"}, 404)
        limit = min(int(request.args.get("limit", "20")), 40)
        mine = sorted(self.our_statuses(), key=lambda s: int(s["id"]), reverse=True)
        if request.args.get("exclude_reblogs") == "true":
            mine = [s for s in mine if not s.get("reblog")]
        return json_response(mine[:limit])

    def _status(
        self,
        account: dict[str, Any],
        text: str,
        reply_to: str | None,
        visibility: str,
        language: str | None = None,
        uri: str | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        self.next_id += 1
        status_id = str(self.next_id)
        parent = self.statuses.get(reply_to or "")
        status = {
            "id": status_id,
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "visibility": visibility,
            "language": language,
            "uri": uri or f"{self.base_url}/users/{account['username']}/statuses/{status_id}",
            "url": url or f"{self.base_url}/@{account['username']}/{status_id}",
            "content": render(text, self.domain),
            "account": account,
            "reblog": None,
            "mentions": [{"acct": m.group(0)[1:]} for m in MENTION.finditer(text)],
        }
        self.statuses[status_id] = status
        return status
