"""Replies on Bluesky, from our account, through its PDS's XRPC API.

Steps: log in (``com.atproto.server.createSession``, once per publisher, again
when the access token expires), read the post we answer by its ``at://`` URI
(``com.atproto.repo.getRecord``: its ``cid``, and the thread's root, which is
the parent's own ``reply.root`` when the parent is itself a reply), then write
an ``app.bsky.feed.post`` record (``com.atproto.repo.createRecord``) with
``reply: {root, parent}``.

Exactly once: the record key is derived from the delivery's key, so a second
try writes to the same ``at://`` URI and the PDS refuses it instead of posting
twice. ``app.bsky.feed.post`` records are keyed ``tid`` in the lexicon, so the
key is a valid TID (13 base32-sortable characters; top bit 0, then 53 bits of
microseconds, then a 10-bit clock id) whose bits come from a hash of the
delivery key; the "time" in it is a stable point in the first half of 2023,
never the future, and means nothing. When ``createRecord`` fails (the reference
PDS answers a taken key with HTTP 500 today, a newer one with an error named
for it), ``publish`` looks the key up and returns the earlier post if it is
there; ``find`` is that same look-up.

Bluesky allows 300 graphemes (and 3000 UTF-8 bytes) a post; a longer reply is
refused before anything is sent, naming the case. Links in the text are made
clickable with link facets (byte ranges, as the lexicon wants).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import regex
from pydantic import SecretStr

from responders.publishing.base import Delivery, Posted
from responders.publishing.errors import Refused, about
from responders.publishing.http import JsonApi, pick
from voxwatch.errors import PublishError

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
WEB = "https://bsky.app"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_BASE_MICROS = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
TID_SPAN_MICROS = 1 << 44  # about 203 days
STALE_SESSION = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”]")


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts them."""
    return len(regex.findall(r"\X", text))


def record_key(key: str) -> str:
    """A valid TID derived from ``key`` alone: the same key always gives the same record key."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    micros = TID_BASE_MICROS + (digest >> 10) % TID_SPAN_MICROS
    value = (micros << 10) | (digest & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))


def post_uri(target: str) -> tuple[str, str, str]:
    """``(repo, collection, rkey)`` of an ``at://`` post URI or a bsky.app post link."""
    target = target.strip()
    if target.startswith("at://"):
        parts = target.removeprefix("at://").split("/")
        if len(parts) == 3 and all(parts):
            return parts[0], parts[1], parts[2]
    else:
        path = urlsplit(target).path.strip("/").split("/")
        if len(path) == 4 and path[0] == "profile" and path[2] == "post":
            return path[1], POST, path[3]
    raise ValueError(f"{target!r} is not a Bluesky post (at://did/app.bsky.feed.post/rkey)")


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for each http(s) URL in ``text``, with UTF-8 byte offsets."""
    facets = []
    for match in LINK.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}],
            }
        )
    return facets


def reply_record(text: str, parent: dict[str, Any], lang: str | None, now: datetime) -> dict[str, Any]:
    """The post record answering ``parent`` (a getRecord answer: uri, cid, value)."""
    parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
    root = pick(parent, "value", "reply", "root")
    root_ref = (
        {"uri": root["uri"], "cid": root["cid"]} if pick(root, "uri") and pick(root, "cid") else parent_ref
    )
    record: dict[str, Any] = {
        "$type": POST,
        "text": text,
        "createdAt": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "reply": {"root": root_ref, "parent": parent_ref},
    }
    if lang:
        record["langs"] = [lang]
    facets = link_facets(text)
    if facets:
        record["facets"] = facets
    return record


def not_found(exc: Refused) -> bool:
    """A getRecord refusal meaning "no such record": named RecordNotFound, or worded so by older PDSes."""
    return exc.code == "RecordNotFound" or (exc.status == 400 and "Could not locate record" in str(exc))


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access: str
    refresh: str | None


class BlueskyPublisher:
    """Posts replies as ``identifier`` (a handle or the account's email) with an app password."""

    name = "bluesky"

    def __init__(
        self, service_url: str, identifier: str, app_password: SecretStr, timeout: float = 15.0
    ) -> None:
        self.identifier = identifier
        self.app_password = app_password
        self.session: Session | None = None
        self.tokens: list[str] = []  # every session token seen, kept out of messages after renewal too
        self.api = JsonApi("Bluesky", service_url.rstrip("/"), timeout, self._secrets)

    def _secrets(self) -> tuple[str, ...]:
        return (self.app_password.get_secret_value(), *self.tokens)

    def publish(self, delivery: Delivery) -> Posted:
        self._check_length(delivery)
        parent = self._parent(delivery)
        session = self._login()
        rkey = record_key(delivery.key)
        record = reply_record(delivery.text, parent, delivery.extra.get("lang"), datetime.now(UTC))
        body = {"repo": session.did, "collection": POST, "rkey": rkey, "record": record}
        doing = f"posting the reply for {about(delivery)}"
        try:
            answer = self._authed("POST", "com.atproto.repo.createRecord", doing, json=body)
        except PublishError:
            earlier = self._quiet_lookup(rkey)
            if earlier is None:
                raise
            log.info("bluesky: the reply for %s was already posted (%s)", about(delivery), earlier.url)
            return earlier
        if not pick(answer, "uri"):
            raise self.api.error(doing, "createRecord answered without the post's uri")
        return Posted(str(answer["uri"]), self._url(rkey))

    def find(self, delivery: Delivery) -> Posted | None:
        return self._lookup(record_key(delivery.key), f"looking for the reply for {about(delivery)}")

    def _check_length(self, delivery: Delivery) -> None:
        count, size = graphemes(delivery.text), len(delivery.text.encode("utf-8"))
        if count > MAX_GRAPHEMES or size > MAX_BYTES:
            raise PublishError(
                f"Bluesky: the reply for {about(delivery)} is {count} characters ({size} bytes); "
                f"a post holds at most {MAX_GRAPHEMES} ({MAX_BYTES} bytes): shorten the draft"
            )

    def _parent(self, delivery: Delivery) -> dict[str, Any]:
        """The post we answer: its uri, cid and record (for the thread's root)."""
        doing = f"reading the post {delivery.target} that {about(delivery)} answers"
        try:
            repo, collection, rkey = post_uri(delivery.target)
        except ValueError as exc:
            raise PublishError(f"Bluesky: {doing}: {exc}") from None
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        parent = self.api.call("GET", "/xrpc/com.atproto.repo.getRecord", doing, params=params)
        if not (pick(parent, "uri") and pick(parent, "cid")):
            raise self.api.error(doing, "getRecord answered without the post's uri and cid")
        return dict(parent)

    def _lookup(self, rkey: str, doing: str) -> Posted | None:
        session = self._login()
        params = {"repo": session.did, "collection": POST, "rkey": rkey}
        try:
            found = self.api.call("GET", "/xrpc/com.atproto.repo.getRecord", doing, params=params)
        except Refused as exc:
            if not_found(exc):
                return None
            raise
        uri = pick(found, "uri") or f"at://{session.did}/{POST}/{rkey}"
        return Posted(str(uri), self._url(rkey))

    def _quiet_lookup(self, rkey: str) -> Posted | None:
        """The earlier post under ``rkey`` if one can be seen now; None when it cannot."""
        try:
            return self._lookup(rkey, "checking whether the reply is already there")
        except PublishError:
            return None

    def _url(self, rkey: str) -> str:
        session = self._login()
        return f"{WEB}/profile/{session.handle or session.did}/post/{rkey}"

    def _login(self) -> Session:
        """The session, made once: createSession is rate-limited per account (30 per 5 minutes)."""
        if self.session is not None:
            return self.session
        doing = f"logging in as {self.identifier}"
        body = {"identifier": self.identifier, "password": self.app_password.get_secret_value()}
        answer = self.api.call("POST", "/xrpc/com.atproto.server.createSession", doing, json=body)
        if not (pick(answer, "accessJwt") and pick(answer, "did")):
            raise self.api.error(doing, "createSession answered without accessJwt and did")
        self.session = Session(
            did=str(answer["did"]),
            handle=str(answer.get("handle") or ""),
            access=str(answer["accessJwt"]),
            refresh=answer.get("refreshJwt"),
        )
        self.tokens.extend(t for t in (self.session.access, self.session.refresh) if t)
        return self.session

    def _authed(self, method: str, nsid: str, doing: str, json: dict[str, Any]) -> Any:
        """A call with the session's token; an expired session is renewed once and the call repeated."""
        try:
            return self._with_session(method, nsid, doing, json)
        except Refused as exc:
            if exc.code not in STALE_SESSION:
                raise
        self.session = None
        return self._with_session(method, nsid, doing, json)

    def _with_session(self, method: str, nsid: str, doing: str, json: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self._login().access}"}
        return self.api.call(method, f"/xrpc/{nsid}", doing, json=json, headers=headers)
