"""VoxWatch's own exceptions.

Library errors are turned into these at the boundary, with a message that names
the input (the file, the source, the setting) so a user can act on it. The CLI
prints them without a traceback.
"""

from __future__ import annotations


class VoxWatchError(Exception):
    """Base class: a problem a user can understand and fix."""


class SettingsError(VoxWatchError):
    """The settings file is missing, unreadable or invalid."""


class StoreError(VoxWatchError):
    """The DuckDB store could not be opened or written."""


class SourceError(VoxWatchError):
    """A source could not be fetched or its response could not be parsed."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"source {source!r}: {message}")
        self.source = source
        self.reason = message


class ModelError(VoxWatchError):
    """The sentiment model could not be loaded or run."""


class ParseError(VoxWatchError):
    """A response could not be parsed; the message names where it came from."""


class TransientSourceError(SourceError):
    """A fetch failed in a way that may pass (429, 5xx, timeout): worth retrying."""
