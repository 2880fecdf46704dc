"""The shape every source module has.

A source is two functions, like an httpx transport is one:

* ``build_request(source, state) -> FetchRequest``: what to ask for next, from the
  settings and the saved cursor;
* ``parse(raw) -> ParsedPage``: pure; turns one saved response into mentions and
  the cursor to save once they are stored;
* optionally ``prepare(source, settings, client) -> headers``, run before the
  fetch on the same client: to log in with credentials from the environment, or
  to check that the service lets us read at all.

Fetching is shared (``flows.sources.http``), so any saved ``RawResponse`` can be replayed
through ``parse`` with no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["FetchRequest", "ParsedPage", "RawResponse", "SourceModule"]

from voxwatch.domain import Mention, RawResponse, SourceState
from voxwatch.settings import SourceSettings


@dataclass(frozen=True)
class FetchRequest:
    url: str
    params: dict[str, str] = field(default_factory=dict)
    expect: str = "any"  # "json", "xml", "html" or "any": what a healthy answer looks like
    min_interval: float | None = None  # seconds between requests to this host (None: default)


@dataclass(frozen=True)
class ParsedPage:
    mentions: list[Mention]
    # The cursor to save once the whole run is stored (the last one given wins).
    next_cursor: str | None = None
    # Query parameters for the next page of this same run, or None when done.
    next_page: dict[str, str] | None = None
    # Posts the platform reports deleted (external ids): erased from the store like a forgotten author's.
    deleted: list[str] = field(default_factory=list)


class SourceModule(Protocol):
    build_request: Callable[[SourceSettings, SourceState], FetchRequest]
    parse: Callable[[RawResponse], ParsedPage]
