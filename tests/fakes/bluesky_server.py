"""A Bluesky PDS (with the app view's reads folded in), as far as replying needs.

XRPC as the lexicons define it: ``com.atproto.server.createSession`` (``accessJwt``,
``refreshJwt``, ``handle``, ``did``), ``com.atproto.repo.getRecord`` (``uri``, ``cid``,
``value``; 400 ``RecordNotFound`` when missing) and ``com.atproto.repo.createRecord``
(``uri``, ``cid``, ``commit``, ``validationStatus``), with errors as
``{"error": Name, "message": ...}``. Posts are validated as app.bsky.feed.post
is: at most 300 graphemes and 3000 bytes of text, a TID record key, reply refs
with uri and cid. A record key already taken is answered as ``taken_key_answer``
says: by default HTTP 500 InternalServerError, which is what the reference PDS
sends today (bluesky-social/atproto#4728 proposes a named error).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import regex
from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeApi, json_response

POST = "app.bsky.feed.post"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
INTERNAL = (500, {"error": "InternalServerError", "message": "Internal Server Error"})


def xrpc_error(status: int, error: str, message: str) -> Response:
    return json_response({"error": error, "message": message}, status)


def fake_cid(value: Any) -> str:
    digest = hashlib.sha256(repr(value).encode()).hexdigest()
    return "bafyrei" + "".join(TID_ALPHABET[int(c, 16)] for c in digest[:52])


class FakeBluesky(FakeApi):
    """Our account (``handle``, ``did``, app ``password``) and posts by others added with ``add_post``."""

    def __init__(
        self,
        handle: str = "acme-care.bsky.example",
        did: str = "did:plc:acmecare2c3xq4vh7rkbyd5t",
        password: str = "bsky-app-pass-s3cret-1234",
    ) -> None:
        super().__init__()
        self.handle, self.did, self.password = handle, did, password
        self.handles: dict[str, str] = {handle: did}
        self.records: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.expired: set[str] = set()
        self.sessions = 0
        self.clock = 0
        self.taken_key_answer: tuple[int, dict[str, str]] = INTERNAL
        self.not_found_name = "RecordNotFound"  # older PDSes and the app view say "InvalidRequest"

    # --- set-up and inspection -----------------------------------------------------------

    def add_post(self, handle: str, text: str, reply_to: str | None = None) -> str:
        """A post by someone else (``reply_to``: the at:// URI it answers); returns its at:// URI."""
        with self.lock:
            did = self.handles.setdefault(
                handle, f"did:plc:{hashlib.sha256(handle.encode()).hexdigest()[:24]}"
            )
            record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": self._now()}
            if reply_to:
                parent = self.records[reply_to]
                root = (parent["value"].get("reply") or {}).get("root") or {
                    "uri": parent["uri"],
                    "cid": parent["cid"],
                }
                record["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            return self._store(did, POST, self._next_tid(), record)["uri"]

    def our_posts(self) -> list[dict[str, Any]]:
        with self.lock:
            prefix = f"at://{self.did}/{POST}/"
            return [r for uri, r in self.records.items() if uri.startswith(prefix)]

    def expire_tokens(self) -> None:
        """Every access token issued so far answers ExpiredToken from now on."""
        with self.lock:
            self.expired.update(self.tokens)

    # --- the API ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        routes = {
            ("POST", "/xrpc/com.atproto.server.createSession"): self._create_session,
            ("GET", "/xrpc/com.atproto.repo.getRecord"): self._get_record,
            ("POST", "/xrpc/com.atproto.repo.createRecord"): self._create_record,
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            return xrpc_error(404, "MethodNotImplemented", "Method Not Implemented")
        return handler(request)

    def _create_session(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        identifier, password = body.get("identifier"), body.get("password")
        if identifier not in (self.handle, self.did) or password != self.password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions += 1
        access = f"access-{secrets.token_hex(16)}"
        self.tokens[access] = self.did
        return json_response(
            {
                "accessJwt": access,
                "refreshJwt": f"refresh-{secrets.token_hex(16)}",
                "handle": self.handle,
                "did": self.did,
                "active": True,
            }
        )

    def _get_record(self, request: Request) -> Response:
        args = request.args
        for name in ("repo", "collection", "rkey"):
            if not args.get(name):
                return xrpc_error(400, "InvalidRequest", f'Error: Params must have the property "{name}"')
        repo = self.handles.get(args["repo"], args["repo"])
        if repo not in self.handles.values():
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {args['repo']}")
        uri = f"at://{repo}/{args['collection']}/{args['rkey']}"
        record = self.records.get(uri)
        if record is None:
            return xrpc_error(400, self.not_found_name, f"Could not locate record: {uri}")
        return json_response(record)

    def _create_record(self, request: Request) -> Response:
        refused = self._check_auth(request)
        if refused is not None:
            return refused
        body = request.get_json(silent=True) or {}
        if body.get("repo") not in (self.did, self.handle):
            return xrpc_error(403, "InvalidRequest", "Cannot write to another repo")
        if body.get("collection") != POST:
            return xrpc_error(400, "InvalidRequest", f"this fake only knows {POST}")
        problem = self._invalid_post(body.get("record"))
        if problem:
            return xrpc_error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        rkey = body.get("rkey") or self._next_tid()
        if not TID.fullmatch(rkey):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key for {POST}: {rkey}")
        if f"at://{self.did}/{POST}/{rkey}" in self.records:
            status, error = self.taken_key_answer
            return json_response(error, status)
        stored = self._store(self.did, POST, rkey, body["record"])
        commit = {"cid": fake_cid(stored), "rev": self._next_tid()}
        return json_response(
            {"uri": stored["uri"], "cid": stored["cid"], "commit": commit, "validationStatus": "valid"}
        )

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        token = header.removeprefix("Bearer ")
        if token in self.expired:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if token not in self.tokens:
            return xrpc_error(401, "InvalidToken", "Token could not be verified")
        return None

    def _invalid_post(self, record: Any) -> str | None:
        if not isinstance(record, dict) or record.get("$type") != POST:
            return f"Record/$type must be {POST}"
        text = record.get("text")
        if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
            return 'Record must have the properties "text" and "createdAt"'
        if len(regex.findall(r"\X", text)) > 300:
            return "Record/text must not be longer than 300 graphemes"
        if len(text.encode("utf-8")) > 3000:
            return "Record/text must not be longer than 3000 characters"
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) if isinstance(reply, dict) else None
                if not (isinstance(ref, dict) and ref.get("uri") and ref.get("cid")):
                    return f"Record/reply/{part} must have the properties uri and cid"
        return None

    def _store(self, did: str, collection: str, rkey: str, value: dict[str, Any]) -> dict[str, Any]:
        uri = f"at://{did}/{collection}/{rkey}"
        stored = {"uri": uri, "cid": fake_cid(value), "value": value}
        self.records[uri] = stored
        return stored

    def _next_tid(self) -> str:
        self.clock += 1
        value = (int(datetime.now(UTC).timestamp() * 1_000_000) << 10) | (self.clock & 0x3FF)
        return "".join(TID_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
