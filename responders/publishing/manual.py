"""The channel for sources that cannot be answered from here: a person posts by hand.

Feeds, review pages and App Store reviews have no reply API we may use. Their
replies are approved like any other, then a person posts the text where the
mention is and pastes the link back. The outbox handles channel ``manual`` on
its own (such a reply waits for its link, ``Outgoing.state == "awaiting_link"``)
and need not call this class; it exists so every channel has a publisher and
nothing has to special-case a missing one.
"""

from __future__ import annotations

from responders.publishing.base import Delivery, Posted


class ManualPublisher:
    """Sends nothing: ``publish`` answers ``Posted(None, None)``, "a person posts it and pastes the link"."""

    name = "manual"

    def publish(self, delivery: Delivery) -> Posted:
        return Posted(None, None)

    def find(self, delivery: Delivery) -> Posted | None:
        """Nothing was ever posted from here, so there is nothing to find."""
        return None
