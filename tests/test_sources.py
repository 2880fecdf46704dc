"""Parsers on real recorded responses: pure functions, replayable from saved bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from flows.sources import appstore, hackernews, jsonld, mastodon, rss
from flows.sources.base import RawResponse
from tests.conftest import FIXTURES
from voxwatch.domain import SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings


def raw(name: str, content_type: str = "", url: str = "https://example.test/page") -> RawResponse:
    body = (FIXTURES / name).read_bytes()
    return RawResponse(url, 200, {"content-type": content_type}, body, datetime.now(UTC))


def test_atom_feed_gives_every_entry_with_author_date_and_text() -> None:
    page = rss.parse(raw("stackoverflow_atom.xml", "application/atom+xml"))
    assert len(page.mentions) == 2
    first = page.mentions[0]
    assert first.external_id.startswith("https://stackoverflow.com/q/")
    assert first.author and first.title and first.published_at and first.published_at.tzinfo
    assert "<" not in first.text  # markup is stripped to plain text


def test_feed_without_declared_encoding_is_decoded() -> None:
    page = rss.parse(raw("gb2312_illformed.xml"))
    assert [m.text for m in page.mentions] == ["不归移民漫画系列：专业工作"]


def test_empty_broken_feed_is_an_error_not_no_news() -> None:
    with pytest.raises(ParseError, match="not a readable feed"):
        rss.parse(raw("rss_empty_document_illformed.xml"))


def test_jsonld_page_gives_every_review_with_its_rating() -> None:
    page = jsonld.parse(raw("recipe_page_15_reviews.html", "text/html"))
    assert len(page.mentions) == 15
    assert all(m.rating is not None and 1 <= m.rating <= 5 for m in page.mentions)
    assert all(m.author and m.published_at for m in page.mentions)
    assert len({m.external_id for m in page.mentions}) == 15


def test_jsonld_block_that_is_broken_does_not_hide_the_others() -> None:
    body = (
        b'<html><head><script type="application/ld+json">{not json</script>'
        b'<script type="application/ld+json">{"@type": "Review", "reviewBody": "Great &amp; fast",'
        b' "author": "Kim", "reviewRating": {"ratingValue": "4"}}</script></head></html>'
    )
    page = jsonld.parse(RawResponse("https://shop.test/p", 200, {}, body, datetime.now(UTC)))
    assert [(m.text, m.author, m.rating) for m in page.mentions] == [("Great & fast", "Kim", 4.0)]


def test_hackernews_reply_gives_hits_and_the_newest_timestamp_as_cursor() -> None:
    page = hackernews.parse(raw("hn_search_by_date_apple.json", "application/json"))
    assert [(m.author, m.external_id) for m in page.mentions] == [("fleitz", "7919418")]
    assert page.next_cursor == "1403235154"
    assert page.mentions[0].url == "https://news.ycombinator.com/item?id=7919418"


def test_hackernews_request_asks_only_for_items_after_the_cursor() -> None:
    source = SourceSettings(
        name="hn", kind="hackernews", url="https://hn.algolia.com/api/v1/search_by_date", query="acme"
    )
    first = hackernews.build_request(source, SourceState("hn"))
    later = hackernews.build_request(source, SourceState("hn", cursor="1403235154"))
    assert "numericFilters" not in first.params
    assert later.params["numericFilters"] == "created_at_i>1403235154"
    assert later.params["query"] == "acme"


@pytest.mark.parametrize("body", [b"{broken", b"<html>Rate limited</html>", b'{"message": "no hits here"}'])
def test_hackernews_bad_json_is_a_parse_error_naming_the_url(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"https://hn\.test/api"):
        hackernews.parse(RawResponse("https://hn.test/api", 200, {}, body, datetime.now(UTC)))


def test_mastodon_cassettes_replay_every_status() -> None:
    from voxwatch.cli.replay import replay_file

    timeline = replay_file("mastodon", FIXTURES / "mastodon" / "hashtag_timeline.yaml")
    assert [(m.author, m.text) for m in timeline] == [("mastodonpy_test_2", "# hoot (hashtag toot)")]
    assert timeline[0].external_id.startswith("http://localhost:3000/ap/users/")
    paging = replay_file("mastodon", FIXTURES / "mastodon" / "min_max_id.yaml")
    context = replay_file("mastodon", FIXTURES / "mastodon" / "status_context.yaml")
    assert [m.text for m in paging] == ["Toot!"] and [m.text for m in context] == ["Toot!"]


def test_mastodon_page_cursor_is_the_newest_status_id() -> None:
    import yaml

    cassette = yaml.safe_load((FIXTURES / "mastodon" / "hashtag_timeline.yaml").read_text())
    body = next(i for i in cassette["interactions"] if "/timelines/tag/" in i["request"]["uri"])
    page = mastodon.parse(
        RawResponse(
            "https://m.test/api/v1/timelines/tag/hoot",
            200,
            {},
            body["response"]["body"]["string"].encode(),
            datetime.now(UTC),
        )
    )
    assert page.next_cursor == "117020593741189701"
    source = SourceSettings(name="m", kind="mastodon", url="https://m.test/", query="#hoot")
    request = mastodon.build_request(source, SourceState("m", cursor=page.next_cursor))
    assert request.url == "https://m.test/api/v1/timelines/tag/hoot"
    assert request.params == {"limit": "40", "min_id": "117020593741189701"}


def test_appstore_feed_skips_the_app_metadata_entry() -> None:
    page = appstore.parse(raw("appstore_customerreviews_cn.json", "application/json"))
    assert [(m.author, m.rating) for m in page.mentions] == [
        ("咖啡控小王", 1.0),
        ("Lily", 5.0),
        ("Ken T", 2.0),
    ]
    assert page.mentions[0].title == "更新后一直闪退"
    assert page.mentions[2].text.endswith("support just sends a template reply.")


def test_appstore_page_with_a_single_entry_is_read() -> None:
    body = (
        b'{"feed": {"entry": {"id": {"label": "9"}, "im:rating": {"label": "4"}, '
        b'"content": {"label": "ok"}}}}'
    )
    page = appstore.parse(RawResponse("https://itunes.test/x", 200, {}, body, datetime.now(UTC)))
    assert [(m.external_id, m.rating) for m in page.mentions] == [("9", 4.0)]


def test_microdata_reviews_are_the_fallback_when_there_is_no_json_ld() -> None:
    assert jsonld.parse(raw("product_microdata.html", "text/html")).mentions == []  # ratings only, no reviews
    body = b"""<html><body><div itemscope itemtype="https://schema.org/Product">
    <span itemprop="name">Kit</span>
    <div itemprop="review" itemscope itemtype="https://schema.org/Review">
      <span itemprop="author" itemscope itemtype="https://schema.org/Person">
        <span itemprop="name">Ana</span></span>
      <meta itemprop="datePublished" content="2026-11-01">
      <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
        <meta itemprop="ratingValue" content="2"></div>
      <span itemprop="reviewBody">The grinder broke &amp; nobody answered.</span>
    </div></div></body></html>"""
    (review,) = jsonld.parse(RawResponse("https://shop.test/kit", 200, {}, body, datetime.now(UTC))).mentions
    assert (review.author, review.rating, review.text) == ("Ana", 2.0, "The grinder broke & nobody answered.")
    assert review.published_at is not None and review.published_at.day == 1


def test_a_full_mastodon_page_follows_the_link_header_to_newer_statuses() -> None:
    statuses = [
        {
            "id": str(200 - i),
            "uri": f"https://m.test/s/{200 - i}",
            "content": f"<p>post {i}</p>",
            "account": {},
        }
        for i in range(40)
    ]
    link = (
        '<https://m.test/api/v1/timelines/tag/acme?max_id=161>; rel="next", '
        '<https://m.test/api/v1/timelines/tag/acme?min_id=200>; rel="prev"'
    )
    full = RawResponse(
        "https://m.test/x", 200, {"link": link}, json.dumps(statuses).encode(), datetime.now(UTC)
    )
    page = mastodon.parse(full)
    assert (len(page.mentions), page.next_cursor, page.next_page) == (40, "200", {"min_id": "200"})
    short = RawResponse(
        "https://m.test/x", 200, {"link": link}, json.dumps(statuses[:3]).encode(), datetime.now(UTC)
    )
    assert mastodon.parse(short).next_page is None  # a short page is the newest there is
