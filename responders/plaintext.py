"""Text from the internet made safe to put in a public reply: plain words, no markup, no links.

Author display names (and anything else taken from a post) are written by whoever
posted. Copied verbatim into a reply they can carry a Markdown link or tracking
image, an HTML tag, a bare URL or an ``@everyone`` that the platform turns live
under our brand's name. ``plain_text_name`` keeps the words and drops the rest;
the draft linter (``responders/lint.py``) catches the same things in what a
person types.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

MAX_NAME_CHARS = 40

_MD_IMAGE = re.compile(r"!\[[^\[\]]*\](\([^()]*\)|\[[^\[\]]*\])?")
_MD_LINK = re.compile(r"\[([^\[\]]*)\](\([^()]*\)|\[[^\[\]]*\])")
_HTML_TAG = re.compile(r"<[/!?]?[A-Za-z][^<>]*>?")
_MENTION_AT = re.compile(r"(?<![A-Za-z0-9])[@＠]+")
_HASHTAG = re.compile(r"(?<!\w)#+")
_EDGE_UNDERSCORES = re.compile(r"(?<![^\W_])_+|_+(?![^\W_])")
_MARKUP_CHARS = re.compile(r"[*`~<>\[\]{}|\\]")
_SPACES = re.compile(r"\s+")
_LINKISH = ("http", "://", "www.", "javascript:", "data:", "mailto:", "ftp:")
_DOMAIN_END = re.compile(
    r"\.(com|net|org|io|co|cn|uk|de|fr|jp|ru|me|ly|gg|xyz|app|dev|info|biz|example|link|site|top|shop|tv|to)$"
)
_EDGE_PUNCTUATION = " \t-–—:;,.!?/&=+"


def _controls_to_spaces(text: str) -> str:
    """Control, format (bidi overrides, zero-width) and unassigned characters become spaces."""
    return "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)


def _is_linkish(token: str) -> bool:
    """A whitespace-separated token that is, or holds, a URL or a domain name."""
    low = token.lower()
    if any(marker in low for marker in _LINKISH):
        return True
    return ("/" in low and "." in low) or bool(_DOMAIN_END.search(low.rstrip(".,;:!?)")))


def _drop_links(text: str) -> str:
    return " ".join(token for token in text.split() if not _is_linkish(token))


_STEPS: tuple[Callable[[str], str], ...] = (
    lambda s: unicodedata.normalize("NFKC", s),  # a fullwidth ＠ or ｈｔｔｐ is the plain one
    _controls_to_spaces,
    lambda s: _MD_IMAGE.sub(" ", s),
    lambda s: _MD_LINK.sub(r" \1 ", s),
    lambda s: _HTML_TAG.sub(" ", s),
    _drop_links,
    lambda s: _MENTION_AT.sub("", s),
    lambda s: _HASHTAG.sub("", s),
    lambda s: _EDGE_UNDERSCORES.sub("", s),
    lambda s: _MARKUP_CHARS.sub("", s),
    lambda s: _SPACES.sub(" ", s).strip(_EDGE_PUNCTUATION),
)


def _one_pass(text: str) -> str:
    for step in _STEPS:
        text = step(text)
    return text


def _settled(text: str) -> str:
    """Apply the steps until nothing changes: what is left has nothing more to remove."""
    while (cleaner := _one_pass(text)) != text:
        text = cleaner
    return text


def _has_substance(text: str) -> bool:
    """Something a greeting can use: a letter, a digit or a symbol such as an emoji."""
    return any(ch.isalnum() or unicodedata.category(ch) == "So" for ch in text)


def plain_text_name(raw: str | None, fallback: str = "there", max_chars: int = MAX_NAME_CHARS) -> str:
    """``raw`` (text from a post) as plain words fit for a public reply, or ``fallback``.

    Markdown images go entirely and Markdown links keep only their text (never the
    URL); HTML tags, bare URLs and domain names, control characters, ``@`` and
    ``#`` at a word start and emphasis marks go. Removing one thing can join the
    pieces of another (``ht<b>tp``), so the steps repeat until nothing changes;
    every change removes characters, so this ends. The result is cut to
    ``max_chars`` and settled again (a cut can leave a token ending like a domain
    name), so cleaning a clean name changes nothing. When nothing usable is left,
    the greeting uses ``fallback``.
    """
    text = _settled(_settled(raw or "")[:max_chars])
    return text if _has_substance(text) else fallback
