"""One module per source kind, all of the same shape (see ``base``)."""

from __future__ import annotations

from types import ModuleType

from flows.sources import appstore, bluesky, hackernews, jsonld, mastodon, rss

SOURCES: dict[str, ModuleType] = {
    "rss": rss,
    "jsonld": jsonld,
    "hackernews": hackernews,
    "mastodon": mastodon,
    "appstore": appstore,
    "bluesky": bluesky,
}


def source_module(kind: str) -> ModuleType:
    try:
        return SOURCES[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}; known: {', '.join(sorted(SOURCES))}") from None
