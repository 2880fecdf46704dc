"""Publishing adapters: the only code that would put words in public.

Each adapter checks for itself that the draft it is handed was approved by a
comms lead, so nothing unapproved can leave through it, whoever calls it.
"""

from __future__ import annotations

from typing import Any

import httpx

from responders.publishing.approval import ensure_approved
from voxwatch.errors import PublishError

__all__ = ["WebhookPublisher", "ensure_approved"]


class WebhookPublisher:
    """Posts approved replies as JSON to an endpoint that relays them (a social tool, a queue)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def __call__(self, draft: dict[str, Any]) -> None:
        ensure_approved(draft)
        payload = {"case_id": draft["case_id"], "version": draft["version"], "text": draft["body"]}
        try:
            httpx.post(self.url, json=payload, timeout=self.timeout).raise_for_status()
        except httpx.HTTPError as exc:
            raise PublishError(f"publishing case {draft['case_id']} to {self.url} failed: {exc}") from exc
