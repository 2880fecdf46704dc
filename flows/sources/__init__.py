"""One module per source kind, all of the same shape (see ``base``)."""

from __future__ import annotations

from types import ModuleType

from flows.sources import appstore, bluesky, hackernews, jsonld, mastodon, rss
from flows.sources.base import ParsedPage, RawResponse
from voxwatch.errors import ParseError

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


# What a parser raises when a body has the right syntax but not the shape it expects
# (a field of another type, a missing key, nesting too deep to read).
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)


def parse_response(kind: str, raw: RawResponse) -> ParsedPage:
    """The ``kind`` connector's parse, with any surprise about the body's shape as a ``ParseError``.

    Parsers are pure and check what they rely on, but a public API can answer
    anything; whatever slips past their checks names the response here instead
    of escaping as a bare ``KeyError``.
    """
    try:
        return source_module(kind).parse(raw)
    except ParseError:
        raise
    except SHAPE_ERRORS as exc:
        raise ParseError(
            f"{raw.url}: not the {kind} answer the parser expects ({type(exc).__name__}: {exc})"
        ) from exc
