"""Replies handed as JSON to an endpoint that relays them (a social-media tool, a queue).

The body is ``{case_id, version, text, key, target}``; the ``Idempotency-Key``
header repeats ``key`` so a relay that dedupes on it posts a retried reply once.
An answer with ``id`` and ``url`` in a JSON body is kept as where the reply
landed; any other 2xx means accepted, with nothing to link to.

The URL is a secret (it usually carries the relay's token): it is held as a
``SecretStr``, never put in a message, and hidden from httpx's own log lines.

``find`` cannot look: a relay offers no lookup, so it raises ``OutcomeUnknown``
and the outbox asks a person to check the relay before sending again.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from responders.publishing.base import Delivery, Posted
from responders.publishing.errors import about
from responders.publishing.http import JsonApi, hide_in_logs, pick
from voxwatch.errors import OutcomeUnknown


def payload(delivery: Delivery) -> dict[str, Any]:
    """What the relay receives; ``version`` is the draft's number when the outbox gave one."""
    version: int | str | None = delivery.extra.get("version")
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    return {
        "case_id": delivery.case_id,
        "version": version,
        "text": delivery.text,
        "key": delivery.key,
        "target": delivery.target,
    }


class WebhookPublisher:
    """POSTs each approved reply to one secret URL."""

    name = "webhook"

    def __init__(self, url: SecretStr, timeout: float = 10.0) -> None:
        self.url = url
        hide_in_logs(url.get_secret_value())
        self.api = JsonApi("webhook", url.get_secret_value(), timeout, lambda: (url.get_secret_value(),))

    def publish(self, delivery: Delivery) -> Posted:
        doing = f"handing over the reply for {about(delivery)}"
        headers = {"Idempotency-Key": delivery.key}
        answer = self.api.call("POST", "", doing, json=payload(delivery), headers=headers, need_json=False)
        found_id, url = pick(answer, "id"), pick(answer, "url")
        return Posted(str(found_id) if found_id is not None else None, url if isinstance(url, str) else None)

    def find(self, delivery: Delivery) -> Posted | None:
        raise OutcomeUnknown(
            f"webhook: the relay offers no way to check whether an earlier try of the reply for "
            f"{about(delivery)} (key {delivery.key}) arrived"
        )
