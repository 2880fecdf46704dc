"""A relay that takes replies as JSON at a secret URL and dedupes on ``Idempotency-Key``.

It listens at ``/hooks/<token>`` only (anything else is 404), keeps every
delivery it accepted, and answers ``{"id": ..., "url": ...}`` (or plain ``ok``
when ``answer_json`` is off). The same key twice is one delivery.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeApi, json_response


class FakeRelay(FakeApi):
    def __init__(self, token: str = "hook-token-s3cret-abcdef") -> None:
        super().__init__()
        self.token = token
        self.answer_json = True
        self.deliveries: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        """The secret URL replies are posted to."""
        return f"{self.base_url}/hooks/{self.token}"

    def dispatch(self, request: Request) -> Response:
        if request.method != "POST" or request.path != f"/hooks/{self.token}":
            return Response("not found", status=404)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("text"):
            return json_response({"error": "a JSON body with text is required"}, 400)
        key = request.headers.get("Idempotency-Key") or f"anonymous-{len(self.deliveries)}"
        number = list(self.deliveries).index(key) + 1 if key in self.deliveries else len(self.deliveries) + 1
        self.deliveries.setdefault(key, body)
        if not self.answer_json:
            return Response("ok", content_type="text/plain")
        return json_response({"id": f"relay-{number}", "url": f"https://relay.example/posts/{number}"})
