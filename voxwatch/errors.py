"""VoxWatch's own exceptions, all in one place.

Library errors are turned into these at the boundary, with a message that names
the input (the file, the source, the setting, the case) so a user can act on it.
The CLI prints them as one line without a traceback; the dashboard shows the
message. The hierarchy, as httpx draws its own::

    VoxWatchError                 a problem a user can understand and fix
    ├── SettingsError             the settings file is missing, unreadable or invalid
    ├── StoreError                the store could not be opened, read or written
    ├── ModelError                the sentiment model could not be loaded or run
    ├── ParseError                a response could not be parsed (names where it came from)
    ├── SourceError               a source could not be fetched; names the source
    │   ├── TransientSourceError  ... in a way that may pass (429, 5xx, timeout): retried
    │   └── RateLimited           ... the source asked us to come back later (Retry-After)
    ├── Unverified                the command line could not verify who is acting (token, password)
    ├── PublishError              a reply or notice could not be published, for good
    │   ├── UnapprovedText        ... because the text is not an approved draft
    │   ├── TransientPublishError ... in a way that may pass (timeout, 5xx, 429): retried
    │   └── OutcomeUnknown        ... the platform cannot tell whether an earlier try landed
    └── CaseError                 an action on a case was refused
        ├── CaseNotFound          no case has that id
        │   └── AmbiguousCase     ... only several, for the id prefix given
        ├── PermissionDenied      the person's roles do not allow it (or it is their own draft)
        └── InvalidTransition     the case is not in a state where the action makes sense
"""

from __future__ import annotations

from datetime import datetime


class VoxWatchError(Exception):
    """Base class: a problem a user can understand and fix."""


class SettingsError(VoxWatchError):
    """The settings file is missing, unreadable or invalid."""


class StoreError(VoxWatchError):
    """The DuckDB store could not be opened or written."""


class ModelError(VoxWatchError):
    """The sentiment model could not be loaded or run."""


class ParseError(VoxWatchError):
    """A response could not be parsed; the message names where it came from."""


class SourceError(VoxWatchError):
    """A source could not be fetched or its response could not be parsed."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"source {source!r}: {message}")
        self.source = source
        self.reason = message


class TransientSourceError(SourceError):
    """A fetch failed in a way that may pass (429, 5xx, timeout): worth retrying."""


class RateLimited(SourceError):
    """The source said when to come back (``Retry-After``): ``until`` is that time, in UTC."""

    def __init__(self, source: str, message: str, until: datetime) -> None:
        super().__init__(source, message)
        self.until = until


class Unverified(VoxWatchError):
    """``--as NAME`` came without valid proof: no token, a wrong or revoked one, or a wrong password."""


class PublishError(VoxWatchError):
    """A reply could not be published."""


class UnapprovedText(PublishError):
    """Only an approved draft is ever published."""


class TransientPublishError(PublishError):
    """Publishing failed in a way that may pass; ``retry_after`` is when the platform asked us back."""

    def __init__(self, message: str, retry_after: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(PublishError):
    """An earlier attempt may have landed and the platform gives no way to check: a person decides."""


class CaseError(VoxWatchError):
    """An action on a case was refused; the message says why."""


class CaseNotFound(CaseError):
    """No case has the id that was given."""


class AmbiguousCase(CaseNotFound):
    """The id prefix given fits several cases; the message lists them, so a person can pick one.

    A kind of ``CaseNotFound``: callers that only ask "is there one such case?" need no change.
    """

    def __init__(self, ref: str, candidates: list[str]) -> None:
        super().__init__(
            f"{ref!r} fits {len(candidates)} cases: {', '.join(candidates)}; give more of the id"
        )
        self.candidates = candidates


class PermissionDenied(CaseError):
    """The person may not do this (wrong role, or their own draft)."""


class InvalidTransition(CaseError):
    """The case is not in a state where this action makes sense."""


class ChangedMeanwhile(InvalidTransition):
    """Someone else changed the case since the person looked (claimed it first, wrote a newer draft).

    The message says what is there now, so the person decides again on what is really there.
    """
