"""Publishing adapters: the only code that would put words in public.

Each adapter checks for itself that the draft it is handed was approved by a
comms lead, so nothing unapproved can leave through it, whoever calls it.
"""

from __future__ import annotations

from typing import Any

import httpx

from voxwatch.errors import PublishError, UnapprovedText


def ensure_approved(draft: dict[str, Any]) -> None:
    if draft.get("state") != "approved" or not draft.get("decided_by"):
        state = draft.get("state", "unknown")
        raise UnapprovedText(f"draft {draft.get('id', '?')} is {state}, not approved: refusing to publish")


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
