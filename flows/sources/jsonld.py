"""Web pages that carry schema.org ``Review``s in JSON-LD (or, failing that, microdata).

Review sites, shops and recipe pages embed their reviews as JSON-LD for search
engines; each ``Review`` becomes a mention with its rating, author, date and body.
One broken JSON-LD block does not hide the others on the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import decode_page, from_iso, html_to_text
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings

log = logging.getLogger(__name__)


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    return FetchRequest(url=source.url, expect="html")


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    return {str(k) for k in (kind if isinstance(kind, list) else [kind])}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return html_to_text(str(value)) if value else None


def _rating(review: dict[str, Any]) -> float | None:
    rating = review.get("reviewRating")
    value = rating.get("ratingValue") if isinstance(rating, dict) else rating
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _itemprop(item: Any, name: str) -> Any | None:
    """The first ``itemprop=name`` inside ``item`` that belongs to it (not to a nested item)."""
    for node in item.xpath(f".//*[@itemprop='{name}']"):
        owner = node.getparent()
        while owner is not None and owner is not item and owner.get("itemscope") is None:
            owner = owner.getparent()
        if owner is item:
            return node
    return None


def _prop_value(node: Any | None) -> str | None:
    if node is None:
        return None
    for attribute in ("content", "datetime", "href"):
        if node.get(attribute):
            return str(node.get(attribute)).strip()
    return " ".join(" ".join(node.itertext()).split()) or None


def _microdata_reviews(document: Any, page_url: str) -> list[Mention]:
    """schema.org Reviews marked up as microdata: the fallback when a page has no JSON-LD."""
    found = []
    for item in document.xpath("//*[@itemscope][contains(@itemtype, 'schema.org/Review')]"):
        rating_item = _itemprop(item, "reviewRating")
        rating = _prop_value(_itemprop(rating_item, "ratingValue")) if rating_item is not None else None
        author_node = _itemprop(item, "author")
        author = (
            _prop_value(_itemprop(author_node, "name"))
            if author_node is not None and author_node.get("itemscope") is not None
            else _prop_value(author_node)
        )
        body = _itemprop(item, "reviewBody")
        if body is None:  # (lxml elements without children are falsy: test for None)
            body = _itemprop(item, "description")
        review = {
            "reviewBody": _prop_value(body),
            "author": author,
            "datePublished": _prop_value(_itemprop(item, "datePublished")),
            "name": _prop_value(_itemprop(item, "name")),
            "reviewRating": {"ratingValue": rating},
        }
        mention = _review_mention(review, page_url)
        if mention:
            found.append(mention)
    return found


def _document(raw: RawResponse) -> Any:
    try:
        return lxml_html.document_fromstring(decode_page(raw))
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{raw.url}: not a readable HTML page ({exc})") from exc


def _blocks(raw: RawResponse, document: Any) -> list[Any]:
    """Every readable JSON-LD block; a page whose blocks are all unreadable is an error.

    One broken block next to good ones is skipped with a warning; a page where
    none can be read (a truncated download, say) must not pass for "no reviews".
    """
    scripts = document.xpath('//script[@type="application/ld+json"]')
    blocks = []
    for index, script in enumerate(scripts):
        try:
            blocks.append(json.loads(script.text or "", strict=False))
        except json.JSONDecodeError as exc:
            log.warning("%s: JSON-LD block %d is not valid JSON (%s); skipped", raw.url, index, exc)
    if scripts and not blocks:
        raise ParseError(f"{raw.url}: no readable JSON-LD block (truncated or broken page?)")
    return blocks


def _review_mention(review: dict[str, Any], page_url: str) -> Mention | None:
    body = html_to_text(str(review.get("reviewBody") or review.get("description") or ""))
    if not body:
        return None
    author = _name(review.get("author"))
    published = review.get("datePublished")
    ident = review.get("@id") or review.get("url")
    if not ident:  # author and text only: a site re-rendering its dates must not duplicate reviews
        digest = hashlib.sha256(f"{author}\n{body}".encode()).hexdigest()[:24]
        ident = f"{page_url}#review-{digest}"
    return Mention(
        external_id=str(ident),
        text=body,
        title=_name(review.get("name")),
        url=str(review.get("url") or page_url),
        author=author,
        published_at=from_iso(published),
        rating=_rating(review),
    )


def parse(raw: RawResponse) -> ParsedPage:
    if not raw.body.strip():
        raise ParseError(f"{raw.url}: empty page")
    document = _document(raw)
    mentions: list[Mention] = []
    seen: dict[str, int] = {}
    for block in _blocks(raw, document):
        for node in _walk(block):
            if "Review" not in _types(node):
                continue
            mention = _review_mention(node, raw.url)
            if mention is None:
                continue
            # The same review twice on a page (a double submission) is two reviews; the
            # second gets a stable suffix and is later linked to the first as a repost.
            count = seen.get(mention.external_id, 0)
            seen[mention.external_id] = count + 1
            if count:
                mention = replace(mention, external_id=f"{mention.external_id}~{count + 1}")
            mentions.append(mention)
    if not mentions:
        mentions = _microdata_reviews(document, raw.url)
    return ParsedPage(mentions=mentions)
