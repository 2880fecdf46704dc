"""Properties of every connector's pure ``parse(raw)`` and ``build_request(source, state)``.

A parser meets whatever a server sends: truncated downloads, login pages, another
API's JSON. The collect stage only catches our own ``ParseError`` (it keeps the raw
response and marks the source degraded), so on junk a parser must return a page or
raise exactly that. On well-formed answers built here from generated ids and texts
(non-ASCII, emoji, CJK, markup characters) every item must come back once, in order,
with its id and its plain text, and the cursor and next page must be the documented
ones. The recorded real responses are in ``tests/test_sources.py``.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.sources import SOURCES, appstore, bluesky, hackernews, jsonld, mastodon, rss, source_module
from flows.sources.base import ParsedPage
from voxwatch.domain import Mention, RawResponse, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings

FETCHED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
URL = "https://source.test/api/feed"
KINDS = sorted(SOURCES)

# A word is visible characters with no whitespace: markup characters, quotes, CJK, emoji, accents.
WORD = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co", "Zs", "Zl", "Zp")), min_size=1, max_size=10
)
# Where a format says "plain text" but the parser still reads it as HTML (see the report), no < or &.
PLAIN_WORD = WORD.filter(lambda w: "<" not in w and "&" not in w)
SAMPLES = st.sampled_from(["Acme", "café", "我们的咖啡", "😡😡", "<b>", "a&b", "\"'", "Ωmega", "ß"])
TEXT = st.lists(WORD | SAMPLES, min_size=1, max_size=8)
PLAIN_TEXT = st.lists(PLAIN_WORD | st.sampled_from(["Acme", "咖啡", "😡", "naïve"]), min_size=1, max_size=8)
IDENT = st.text(st.characters(whitelist_categories=("L", "Nd")), min_size=1, max_size=12)
MOMENT = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


def raw(body: bytes | str, url: str = URL, headers: dict[str, str] | None = None) -> RawResponse:
    data = body.encode() if isinstance(body, str) else body
    return RawResponse(url, 200, headers or {}, data, FETCHED)


def escaped(words: list[str]) -> str:
    """Words as HTML text, every markup character escaped."""
    return " ".join(html.escape(w) for w in words)


def unique_by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    return [i for i in items if not (i["id"] in seen or seen.add(i["id"]))]


def check_page(page: ParsedPage) -> None:
    """What every page promises, whatever it was parsed from."""
    assert isinstance(page, ParsedPage)
    for mention in page.mentions:
        assert isinstance(mention, Mention)
        assert mention.external_id and mention.text and mention.text == mention.text.strip()
        assert mention.published_at is None or mention.published_at.tzinfo is not None


def parse_or_parse_error(kind: str, response: RawResponse) -> None:
    try:
        page = source_module(kind).parse(response)
    except ParseError as exc:
        assert str(exc)  # a message for the user
    else:
        check_page(page)


# --- junk in: a page or a ParseError, nothing else ----------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=80, deadline=None)
@given(body=st.binary(max_size=300))
def test_any_bytes_give_a_page_or_a_parse_error(kind: str, body: bytes) -> None:
    parse_or_parse_error(kind, raw(body))


MARKUP_SOUP = st.text(alphabet="<>/&;=\"' abcdefilmnorstxyz{}[]:,@#!?-\n", max_size=200)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=80, deadline=None)
@given(body=MARKUP_SOUP | st.text(max_size=200))
def test_any_text_gives_a_page_or_a_parse_error(kind: str, body: str) -> None:
    parse_or_parse_error(kind, raw(body.encode("utf-8", "surrogatepass")))


# JSON of some other API: keys no connector knows (all start with "_"), any values.
FOREIGN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6).map(lambda k: "_" + k), inner, max_size=4)
    ),
    max_leaves=15,
)


@pytest.mark.parametrize("kind", ["hackernews", "mastodon", "appstore", "bluesky"])
@settings(max_examples=80, deadline=None)
@given(value=FOREIGN_JSON)
def test_json_of_another_shape_gives_a_parse_error_or_nothing(kind: str, value: Any) -> None:
    try:
        page = source_module(kind).parse(raw(json.dumps(value)))
    except ParseError as exc:
        assert URL in str(exc)  # it names where the response came from
    else:
        assert page.mentions == []


@pytest.mark.parametrize("kind", ["hackernews", "mastodon", "appstore", "bluesky"])
@pytest.mark.parametrize("body", [b"null", b"42", b'"text"', b"true", b"{}", b"<html>Sign in</html>", b""])
def test_a_json_api_answer_that_is_not_its_object_is_a_parse_error(kind: str, body: bytes) -> None:
    with pytest.raises(ParseError, match=URL):
        source_module(kind).parse(raw(body))


def test_an_empty_object_is_no_mastodon_answer() -> None:
    with pytest.raises(ParseError, match="not a Mastodon status"):
        mastodon.parse(raw(b"{}"))


# --- RSS and Atom -----------------------------------------------------------------------------------

FEED_ITEM = st.fixed_dictionaries(
    {"id": IDENT, "title": PLAIN_TEXT, "body": st.one_of(st.just([]), TEXT), "when": MOMENT}
)


def rss_feed(items: list[dict[str, Any]]) -> bytes:
    entries = "".join(
        "<item>"
        f'<guid isPermaLink="false">{xml_escape(i["id"])}</guid>'
        f"<title>{xml_escape(' '.join(i['title']))}</title>"
        f"<description><![CDATA[<p>{escaped(i['body'])}</p>]]></description>"
        f"<pubDate>{format_datetime(i['when'], usegmt=True)}</pubDate>"
        "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Acme news</title><link>https://acme.test/</link>{entries}</channel></rss>"
    ).encode()


def looks_double_encoded(text: str) -> bool:
    try:
        return text.encode("cp1252").decode("utf-8") != text
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def repaired_by_feedparser(item: dict[str, Any]) -> bool:
    """feedparser repairs text that looks double-encoded, on purpose: such items do not come back as is."""
    return any(looks_double_encoded(part) for part in (item["id"], *item["title"], *item["body"]))


def atom_feed(items: list[dict[str, Any]]) -> bytes:
    entries = "".join(
        "<entry>"
        f"<id>urn:x:{xml_escape(i['id'])}</id>"
        f'<title type="html">{xml_escape(escaped(i["title"]))}</title>'
        f'<content type="html">{xml_escape("<p>" + escaped(i["body"]) + "</p>")}</content>'
        f"<author><name>{xml_escape(' '.join(i['title'][:1]))}</name></author>"
        f"<updated>{i['when'].isoformat().replace('+00:00', 'Z')}</updated>"
        "</entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Acme</title><id>urn:feed</id>{entries}</feed>"
    ).encode()


@settings(max_examples=80, deadline=None)
@given(st.lists(FEED_ITEM, max_size=6).map(unique_by_id))
def test_every_rss_item_comes_back_once_with_its_guid_and_plain_text(items: list[dict[str, Any]]) -> None:
    assume(not any(repaired_by_feedparser(i) for i in items))
    page = rss.parse(raw(rss_feed(items), headers={"content-type": "application/rss+xml"}))
    assert [m.external_id for m in page.mentions] == [i["id"] for i in items]
    for mention, item in zip(page.mentions, items, strict=True):
        title = " ".join(item["title"])
        assert mention.title == title
        assert mention.text == (" ".join(item["body"]) or title)  # no body: the title is the text
        assert mention.published_at == item["when"]
    assert (page.next_cursor, page.next_page) == (None, None)
    assert rss.parse(raw(rss_feed(items))) == page  # pure: the same bytes, the same page


@settings(max_examples=80, deadline=None)
@given(st.lists(FEED_ITEM, max_size=6).map(unique_by_id))
def test_every_atom_entry_comes_back_once_with_its_id_and_plain_text(items: list[dict[str, Any]]) -> None:
    # feedparser repairs HTML titles that look double-encoded ("Â¡" is "¡" read as UTF-8 bytes in
    # Windows-1252): on purpose, so such titles are not expected back unchanged.
    assume(not any(repaired_by_feedparser(i) for i in items))
    page = rss.parse(raw(atom_feed(items), headers={"content-type": "application/atom+xml"}))
    assert [m.external_id for m in page.mentions] == [f"urn:x:{i['id']}" for i in items]
    for mention, item in zip(page.mentions, items, strict=True):
        assert mention.title == " ".join(item["title"])
        assert mention.text == (" ".join(item["body"]) or mention.title)
        assert mention.author == item["title"][0]
        assert mention.published_at == item["when"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(PLAIN_TEXT, TEXT), min_size=1, max_size=5, unique_by=lambda t: (tuple(t[0]), tuple(t[1]))
    )
)
def test_items_without_guid_or_link_get_stable_distinct_ids(items: list[tuple[list[str], list[str]]]) -> None:
    body = rss_feed([{"id": "", "title": t, "body": b, "when": FETCHED} for t, b in items]).replace(
        b'<guid isPermaLink="false"></guid>', b""
    )
    ids = [m.external_id for m in rss.parse(raw(body)).mentions]
    assert len(set(ids)) == len(items) and all(len(i) == 24 for i in ids)
    assert ids == [m.external_id for m in rss.parse(raw(body)).mentions]


def test_items_with_neither_title_nor_text_are_skipped() -> None:
    items = [
        {"id": "a", "title": [], "body": [], "when": FETCHED},
        {"id": "b", "title": ["kept"], "body": [], "when": FETCHED},
    ]
    assert [(m.external_id, m.text) for m in rss.parse(raw(rss_feed(items))).mentions] == [("b", "kept")]


# --- JSON-LD review pages -----------------------------------------------------------------------------

REVIEW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), IDENT),
        "body": TEXT,
        "author": PLAIN_TEXT.map(" ".join),
        "rating": st.integers(min_value=1, max_value=5),
        "when": MOMENT,
        "as_person": st.booleans(),
    }
)


def review_node(r: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "Review",
        "reviewBody": escaped(r["body"]),
        "author": {"@type": "Person", "name": r["author"]} if r["as_person"] else r["author"],
        "reviewRating": {"@type": "Rating", "ratingValue": str(r["rating"])},
        "datePublished": r["when"].isoformat(),
    }
    if r["id"] is not None:
        node["@id"] = f"https://shop.test/p#r-{r['id']}"
    return node


def review_page(blocks: list[Any]) -> bytes:
    scripts = "".join(
        '<script type="application/ld+json">' + json.dumps(b).replace("<", "\\u003c") + "</script>"
        for b in blocks
    )
    return f"<!doctype html><html><head>{scripts}</head><body><h1>Kit</h1></body></html>".encode()


@settings(max_examples=80, deadline=None)
@given(st.lists(REVIEW, max_size=6), st.booleans())
def test_every_json_ld_review_comes_back_with_its_text_and_rating(
    reviews: list[dict[str, Any]], nested: bool
) -> None:
    nodes = [review_node(r) for r in reviews]
    block = {"@type": "Product", "name": "Kit", "review": nodes} if nested else {"@graph": nodes}
    page = jsonld.parse(raw(review_page([block]), "https://shop.test/p"))
    assert [(m.text, m.author, m.rating, m.published_at) for m in page.mentions] == [
        (" ".join(r["body"]), r["author"], float(r["rating"]), r["when"]) for r in reviews
    ]
    ids = [m.external_id for m in page.mentions]
    assert len(set(ids)) == len(ids)  # the same review twice is kept twice, with a distinct id
    for mention, review in zip(page.mentions, reviews, strict=True):
        if review["id"] is not None:
            assert mention.external_id.split("~")[0] == f"https://shop.test/p#r-{review['id']}"
        else:
            assert mention.external_id.split("~")[0].startswith("https://shop.test/p#review-")


@settings(max_examples=60, deadline=None)
@given(REVIEW, st.integers(min_value=2, max_value=4))
def test_a_review_repeated_on_a_page_gets_numbered_ids(review: dict[str, Any], copies: int) -> None:
    page = jsonld.parse(raw(review_page([[review_node(review)] * copies]), "https://shop.test/p"))
    first = page.mentions[0].external_id
    assert [m.external_id for m in page.mentions] == [first] + [f"{first}~{n}" for n in range(2, copies + 1)]


@settings(max_examples=60, deadline=None)
@given(st.lists(REVIEW, min_size=1, max_size=4), st.integers(min_value=1, max_value=3))
def test_broken_json_ld_blocks_do_not_hide_good_ones(reviews: list[dict[str, Any]], broken: int) -> None:
    body = review_page([[review_node(r) for r in reviews]])
    body = body.replace(b"<head>", b'<head><script type="application/ld+json">{"@type": [</script>' * broken)
    assert len(jsonld.parse(raw(body)).mentions) == len(reviews)


# --- Hacker News (Algolia) --------------------------------------------------------------------------

HIT = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=10**9).map(str),
        "created": st.integers(min_value=1_000_000_000, max_value=2_000_000_000),
        "body": TEXT,
        "field": st.sampled_from(["comment_text", "story_text", "title"]),
    }
)


def algolia(hits: list[dict[str, Any]], page: int = 0, pages: int = 1, total: int | None = None) -> bytes:
    rows = [
        {
            "objectID": h["id"],
            "author": f"u{h['id']}",
            "created_at_i": h["created"],
            h["field"]: escaped(h["body"]),
        }
        for h in hits
    ]
    total = len(hits) if total is None else total
    return json.dumps(
        {"hits": rows, "page": page, "nbPages": pages, "nbHits": total, "hitsPerPage": 100}
    ).encode()


@settings(max_examples=80, deadline=None)
@given(st.lists(HIT, max_size=8).map(unique_by_id))
def test_every_hit_comes_back_with_its_id_text_and_time(hits: list[dict[str, Any]]) -> None:
    page = hackernews.parse(raw(algolia(hits)))
    assert [(m.external_id, m.text, m.author) for m in page.mentions] == [
        (h["id"], " ".join(h["body"]), f"u{h['id']}") for h in hits
    ]
    for mention, hit in zip(page.mentions, hits, strict=True):
        assert mention.url == f"https://news.ycombinator.com/item?id={hit['id']}"
        assert mention.published_at == datetime.fromtimestamp(hit["created"], tz=UTC)
        assert mention.title == (" ".join(hit["body"]) if hit["field"] == "title" else None)
    # the first page of a run holds the newest item: its time is the cursor
    assert page.next_cursor == (str(max(h["created"] for h in hits)) if hits else None)
    assert page.next_page is None


@settings(max_examples=60, deadline=None)
@given(st.lists(HIT, min_size=1, max_size=4).map(unique_by_id), st.integers(min_value=1, max_value=8))
def test_later_pages_and_older_slices_never_move_the_cursor(hits: list[dict[str, Any]], page: int) -> None:
    assert hackernews.parse(raw(algolia(hits, page=page, pages=page + 1))).next_cursor is None
    sliced = f"{URL}?numericFilters=created_at_i%3C%3D1900000000"
    assert hackernews.parse(raw(algolia(hits), url=sliced)).next_cursor is None


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=31))
def test_a_page_before_the_last_asks_for_the_next(page: int, pages: int) -> None:
    parsed = hackernews.parse(raw(algolia([], page=page, pages=pages)))
    assert parsed.next_page == ({"page": str(page + 1)} if page + 1 < pages else None)


@settings(max_examples=60, deadline=None)
@given(st.lists(HIT, min_size=1, max_size=5).map(unique_by_id), st.integers(min_value=0, max_value=10**6))
def test_past_the_hit_cap_the_walk_goes_on_with_older_items(hits: list[dict[str, Any]], lower: int) -> None:
    url = f"{URL}?numericFilters=created_at_i%3E{lower}%2Ccreated_at_i%3C%3D1999999999&page=9"
    parsed = hackernews.parse(raw(algolia(hits, page=9, pages=10, total=5000), url=url))
    oldest = min(h["created"] for h in hits)
    assert parsed.next_page == {"page": "0", "numericFilters": f"created_at_i>{lower},created_at_i<={oldest}"}
    assert hackernews.parse(raw(algolia(hits, page=9, pages=10, total=1000), url=url)).next_page is None


# --- Mastodon ---------------------------------------------------------------------------------------

STATUS = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=2**62).map(str),
        "body": TEXT,
        "spoiler": st.one_of(st.just([]), PLAIN_TEXT),
        "when": MOMENT,
        "followers": st.integers(min_value=0, max_value=10**7),
        "boost": st.booleans(),
    }
)


def toot(s: dict[str, Any]) -> dict[str, Any]:
    original = {
        "id": s["id"],
        "uri": f"https://m.test/users/u{s['id']}/statuses/{s['id']}",
        "url": f"https://m.test/@u{s['id']}/{s['id']}",
        "content": f"<p>{escaped(s['body'])}</p>",
        "spoiler_text": " ".join(s["spoiler"]),
        "created_at": s["when"].isoformat().replace("+00:00", ".000Z"),
        "account": {"acct": f"u{s['id']}@m.test", "followers_count": s["followers"]},
    }
    if not s["boost"]:
        return original
    return {"id": str(int(s["id"]) + 1), "uri": "https://b.test/boost", "content": "", "reblog": original}


@settings(max_examples=80, deadline=None)
@given(st.lists(STATUS, max_size=8).map(unique_by_id))
def test_every_status_comes_back_as_its_original_with_plain_text(statuses: list[dict[str, Any]]) -> None:
    page = mastodon.parse(raw(json.dumps([toot(s) for s in statuses])))
    assert [m.external_id for m in page.mentions] == [
        f"https://m.test/users/u{s['id']}/statuses/{s['id']}" for s in statuses
    ]  # a boost is the post it boosts
    for mention, status in zip(page.mentions, statuses, strict=True):
        body = " ".join(status["body"])
        assert mention.text == (f"{' '.join(status['spoiler'])}\n{body}" if status["spoiler"] else body)
        assert (mention.author, mention.author_reach) == (f"u{status['id']}@m.test", status["followers"])
        assert mention.published_at == status["when"]
    ids = [int(s["id"]) + (1 if s["boost"] else 0) for s in statuses]
    assert page.next_cursor == (str(max(ids)) if ids else None)  # the newest status id on the page
    assert page.next_page is None


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=45), st.integers(min_value=1, max_value=10**15))
def test_only_a_full_page_follows_the_newer_link(count: int, newest: int) -> None:
    statuses = [{"id": str(i + 1), "content": f"<p>s{i}</p>"} for i in range(count)]
    base = "https://m.test/api/v1/timelines/tag/acme"
    link = f'<{base}?max_id=1>; rel="next", <{base}?min_id={newest}>; rel="prev"'
    page = mastodon.parse(raw(json.dumps(statuses), headers={"link": link}))
    assert page.next_page == ({"min_id": str(newest)} if count >= mastodon.PAGE_SIZE else None)
    assert len(page.mentions) == count


@settings(max_examples=60, deadline=None)
@given(st.lists(STATUS, max_size=4).map(unique_by_id), st.lists(STATUS, max_size=4).map(unique_by_id))
def test_a_status_context_gives_ancestors_then_descendants(
    ancestors: list[dict[str, Any]], descendants: list[dict[str, Any]]
) -> None:
    body = {"ancestors": [toot(s) for s in ancestors], "descendants": [toot(s) for s in descendants]}
    page = mastodon.parse(raw(json.dumps(body)))
    assert [m.text.split("\n")[-1] for m in page.mentions] == [
        " ".join(s["body"]) for s in [*ancestors, *descendants]
    ]


# --- App Store ---------------------------------------------------------------------------------------

APP_REVIEW = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=10**12).map(str),
        "title": PLAIN_TEXT,
        "body": PLAIN_TEXT,
        "rating": st.integers(min_value=1, max_value=5),
        "when": MOMENT,
        "author": PLAIN_TEXT.map(" ".join),
    }
)


def app_entry(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": {"label": r["id"]},
        "title": {"label": " ".join(r["title"])},
        "content": {"label": " ".join(r["body"]), "attributes": {"type": "text"}},
        "im:rating": {"label": str(r["rating"])},
        "author": {"name": {"label": r["author"]}, "uri": {"label": "https://itunes.test/u"}},
        "updated": {"label": r["when"].isoformat().replace("+00:00", "-07:00")},
        "link": {"attributes": {"rel": "related", "href": f"https://apps.test/review/{r['id']}"}},
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(APP_REVIEW, max_size=6).map(unique_by_id), st.booleans())
def test_every_app_review_comes_back_and_the_app_entry_is_skipped(
    reviews: list[dict[str, Any]], with_app_entry: bool
) -> None:
    app = {
        "id": {"label": "https://apps.test/app/1"},
        "im:name": {"label": "Acme"},
        "content": {"label": "An app"},
    }
    entries = ([app] if with_app_entry else []) + [app_entry(r) for r in reviews]
    page = appstore.parse(raw(json.dumps({"feed": {"author": {}, "entry": entries}})))
    assert [(m.external_id, m.text, m.title, m.rating, m.author, m.url) for m in page.mentions] == [
        (
            r["id"],
            " ".join(r["body"]),
            " ".join(r["title"]),
            float(r["rating"]),
            r["author"],
            f"https://apps.test/review/{r['id']}",
        )
        for r in reviews
    ]
    assert [m.published_at for m in page.mentions] == [r["when"] + timedelta(hours=7) for r in reviews]


# --- Bluesky ---------------------------------------------------------------------------------------

POST = st.fixed_dictionaries(
    {
        "id": st.text("abcdefghijklmnopqrstuvwxyz234567", min_size=3, max_size=13),
        "text": TEXT,
        "when": MOMENT,
        "handle": st.from_regex(r"[a-z][a-z0-9]{0,10}\.bsky\.social", fullmatch=True),
    }
)


def skeet(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:abc/app.bsky.feed.post/{p['id']}",
        "author": {"did": "did:plc:abc", "handle": p["handle"]},
        "record": {"text": " ".join(p["text"]), "createdAt": p["when"].isoformat().replace("+00:00", "Z")},
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(POST, max_size=8).map(unique_by_id))
def test_every_bluesky_post_comes_back_verbatim_and_the_newest_time_is_the_cursor(
    posts: list[dict[str, Any]],
) -> None:
    page = bluesky.parse(raw(json.dumps({"posts": [skeet(p) for p in posts], "cursor": "9"})))
    assert [(m.external_id, m.text, m.author, m.url, m.published_at) for m in page.mentions] == [
        (
            f"at://did:plc:abc/app.bsky.feed.post/{p['id']}",
            " ".join(p["text"]),  # plain text: markup characters are kept as written
            p["handle"],
            f"https://bsky.app/profile/{p['handle']}/post/{p['id']}",
            p["when"],
        )
        for p in posts
    ]
    newest = max((p["when"] for p in posts), default=None)
    assert page.next_cursor == (newest.strftime("%Y-%m-%dT%H:%M:%SZ") if newest else None)
    # the search's own cursor leads to the next page while posts keep coming
    assert page.next_page == ({"cursor": "9"} if posts else None)


def thread(posts: list[dict[str, Any]], shape: list[int]) -> dict[str, Any]:
    """A reply tree: post i replies to post shape[i - 1] (an earlier one)."""
    nodes = [{"post": skeet(p), "replies": []} for p in posts]
    for child, parent in enumerate(shape, start=1):
        nodes[parent % child]["replies"].append(nodes[child])
    return nodes[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(POST, min_size=1, max_size=8).map(unique_by_id), st.data())
def test_every_post_of_a_thread_comes_back_once(posts: list[dict[str, Any]], data: st.DataObject) -> None:
    shape = data.draw(
        st.lists(st.integers(min_value=0, max_value=100), min_size=len(posts) - 1, max_size=len(posts) - 1)
    )
    page = bluesky.parse(raw(json.dumps({"thread": thread(posts, shape)})))
    assert sorted(m.external_id for m in page.mentions) == sorted(
        f"at://did:plc:abc/app.bsky.feed.post/{p['id']}" for p in posts
    )
    assert page.mentions[0].external_id.endswith(posts[0]["id"])  # the root first


@settings(max_examples=60, deadline=None)
@given(st.lists(POST, max_size=6).map(unique_by_id))
def test_an_author_feed_gives_every_post(posts: list[dict[str, Any]]) -> None:
    page = bluesky.parse(raw(json.dumps({"feed": [{"post": skeet(p)} for p in posts]})))
    assert [m.text for m in page.mentions] == [" ".join(p["text"]) for p in posts]


# --- build_request -----------------------------------------------------------------------------------


def source(kind: str, url: str, query: str | None = None) -> SourceSettings:
    return SourceSettings(name="src", kind=kind, url=url, query=query)


@pytest.mark.parametrize(
    ("kind", "url", "query", "cursor", "want_url", "want_params", "expect"),
    [
        ("rss", "https://a.test/feed.xml", None, None, "https://a.test/feed.xml", {}, "xml"),
        ("rss", "https://a.test/feed.xml", None, "123", "https://a.test/feed.xml", {}, "xml"),
        ("jsonld", "https://shop.test/p/1", None, "x", "https://shop.test/p/1", {}, "html"),
        (
            "appstore",
            "https://itunes.test/cn/rss/json",
            None,
            None,
            "https://itunes.test/cn/rss/json",
            {},
            "json",
        ),
        (
            "hackernews",
            "https://hn.test/api/v1/search_by_date",
            "acme coffee",
            None,
            "https://hn.test/api/v1/search_by_date",
            {"query": "acme coffee", "tags": "(story,comment)", "hitsPerPage": "100"},
            "json",
        ),
        (
            "hackernews",
            "https://hn.test/api/v1/search_by_date",
            None,
            "1700000000",
            "https://hn.test/api/v1/search_by_date",
            {
                "query": "",
                "tags": "(story,comment)",
                "hitsPerPage": "100",
                "numericFilters": "created_at_i>1700000000",
            },
            "json",
        ),
        (
            "mastodon",
            "https://m.test/",
            "#acme",
            None,
            "https://m.test/api/v1/timelines/tag/acme",
            {"limit": "40"},
            "json",
        ),
        (
            "mastodon",
            "https://m.test",
            "acme",
            "1170",
            "https://m.test/api/v1/timelines/tag/acme",
            {"limit": "40", "min_id": "1170"},
            "json",
        ),
        (
            "bluesky",
            "https://bsky.test/",
            "acme coffee",
            None,
            "https://bsky.test/xrpc/app.bsky.feed.searchPosts",
            {"q": "acme coffee", "limit": "100", "sort": "latest"},
            "json",
        ),
        (
            "bluesky",
            "https://bsky.test",
            "acme",
            "2026-11-22T10:00:00Z",
            "https://bsky.test/xrpc/app.bsky.feed.searchPosts",
            {"q": "acme", "limit": "100", "sort": "latest", "since": "2026-11-22T10:00:00Z"},
            "json",
        ),
    ],
)
def test_build_request_asks_for_what_is_documented(
    kind: str,
    url: str,
    query: str | None,
    cursor: str | None,
    want_url: str,
    want_params: dict[str, str],
    expect: str,
) -> None:
    request = source_module(kind).build_request(source(kind, url, query), SourceState("src", cursor=cursor))
    assert (request.url, request.params, request.expect) == (want_url, want_params, expect)
    assert request.min_interval is None  # the collect stage sets the source's own pace


@pytest.mark.parametrize("kind", KINDS)
def test_build_request_ignores_validators_and_health(kind: str) -> None:
    settings_ = source(kind, "https://x.test/", "acme")
    plain = source_module(kind).build_request(settings_, SourceState("src", cursor="17"))
    noisy = SourceState("src", cursor="17", etag='"e"', last_modified="yesterday", status="degraded")
    assert source_module(kind).build_request(settings_, noisy) == plain


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_a_hackernews_cursor_becomes_a_lower_bound(cursor: int) -> None:
    request = hackernews.build_request(
        source("hackernews", URL, "acme"), SourceState("hn", cursor=str(cursor))
    )
    assert request.params["numericFilters"] == f"created_at_i>{cursor}"


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True), st.sampled_from(["", "#", "##"]))
def test_a_mastodon_hashtag_is_asked_without_its_hash(tag: str, hashes: str) -> None:
    request = mastodon.build_request(source("mastodon", "https://m.test", hashes + tag), SourceState("m"))
    assert request.url == f"https://m.test/api/v1/timelines/tag/{tag}"


def test_unknown_kinds_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown source kind 'gopher'; known: appstore, bluesky"):
        source_module("gopher")
