"""The domain's pure functions and small types: the identities every layer agrees on.

``content_hash`` links reposts, ``mention_id`` makes a post one row, ``case_id_for``
makes a mention one case, and ``RawResponse.sha256`` content-addresses what a source
sent. If any of these drifted, reposts would go unlinked, posts would be stored twice
or two different posts would share a row, so each is checked as a property.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from voxwatch.domain import (
    LABELS,
    CaseStatus,
    RawResponse,
    Score,
    case_id_for,
    clamp_to_collection,
    content_hash,
    mention_id,
    normalise_author,
    repost_key,
)
from voxwatch.settings import SLUG

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
FAST = settings(max_examples=200, deadline=None)

# Words without whitespace: letters, digits and marks from any script.
words = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd", "Po")), min_size=1, max_size=12
)
ascii_words = st.text(alphabet=string.ascii_letters + string.digits + "!?.,'", min_size=1, max_size=12)
# Whitespace runs as they occur in posts: spaces, tabs, newlines, no-break and ideographic spaces.
gaps = st.text(alphabet=" \t\n\r\u00a0\u3000\u2003", min_size=1, max_size=5)
# Source names as settings allow them (SLUG), so they never hold the separator.
slugs = st.from_regex(SLUG, fullmatch=True).filter(lambda s: len(s) <= 30)


# --- content_hash -------------------------------------------------------------------------


@FAST
@given(st.text())
def test_content_hash_is_64_hex_and_deterministic(text: str) -> None:
    first = content_hash(text)
    assert HEX64.match(first)
    assert content_hash(text) == first


@FAST
@given(st.lists(ascii_words, min_size=1, max_size=8))
def test_content_hash_ignores_letter_case(parts: list[str]) -> None:
    text = " ".join(parts)
    assert content_hash(text) == content_hash(text.upper()) == content_hash(text.swapcase())


@FAST
@given(st.lists(words, min_size=1, max_size=8), st.data())
def test_content_hash_ignores_whitespace_runs_and_edges(parts: list[str], data: st.DataObject) -> None:
    spaced = data.draw(gaps) + "".join(p + data.draw(gaps) for p in parts)
    assert content_hash(spaced) == content_hash(" ".join(parts))


@FAST
@given(st.text())
def test_content_hash_is_the_same_for_every_normal_form(text: str) -> None:
    expected = content_hash(text)
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert content_hash(unicodedata.normalize(form, text)) == expected


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("ＡＣＭＥ ｋｅｔｔｌｅ", "acme kettle"),  # full-width forms, as Chinese keyboards type them
        ("the ﬁle is broken", "the file is broken"),  # a ligature
        ("Cafe\u0301 closed", "Café closed"),  # combining accent vs precomposed
        ("STRASSE", "straße"),  # casefold, not lower
        ("  two\u3000spaces\n", "two spaces"),
    ],
)
def test_content_hash_links_known_repost_variants(variant: str, plain: str) -> None:
    assert content_hash(variant) == content_hash(plain)


@FAST
@given(
    st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6), min_size=1, max_size=6),
    st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6), min_size=1, max_size=6),
)
def test_content_hash_differs_for_different_words(first: list[str], second: list[str]) -> None:
    assume(first != second)
    # ["ab"] and ["a", "b"] are different posts: spaces are collapsed, never dropped
    assert content_hash(" ".join(first)) != content_hash(" ".join(second))


def test_content_hash_keeps_punctuation_and_digits_apart() -> None:
    assert content_hash("refund 10") != content_hash("refund 100")
    assert content_hash("broken!") != content_hash("broken?")
    assert content_hash("") == content_hash("   \n\t ")


# --- mention_id -------------------------------------------------------------------------


@FAST
@given(slugs, st.text())
def test_mention_id_is_stable_24_hex(source: str, external_id: str) -> None:
    ident = mention_id(source, external_id)
    assert HEX24.match(ident)
    assert mention_id(source, external_id) == ident


@FAST
@given(slugs, st.text(), slugs, st.text())
def test_mention_id_is_distinct_for_distinct_pairs(s1: str, e1: str, s2: str, e2: str) -> None:
    assume((s1, e1) != (s2, e2))
    assert mention_id(s1, e1) != mention_id(s2, e2)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("ab", "c"), ("a", "bc")),  # concatenation without a separator would collide
        (("a", "b\x00c"), ("a", "b\x00d")),  # the separator inside an id from the internet
        (("blog", "1"), ("blog", "1 ")),
        (("blog", "42"), ("shop", "42")),  # the same id from another source is another post
        (("a", ""), ("a", "\x00")),
    ],
)
def test_mention_id_survives_separator_tricks(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert mention_id(*first) != mention_id(*second)


def test_source_names_cannot_hold_the_separator() -> None:
    # mention_id joins source and id with NUL: it is unambiguous because settings refuse such names
    assert not SLUG.match("a\x00b")
    assert not SLUG.match("Blog")


# --- case_id_for -------------------------------------------------------------------------


@FAST
@given(slugs, st.text())
def test_case_id_names_its_mention(source: str, external_id: str) -> None:
    ident = mention_id(source, external_id)
    case_id = case_id_for(ident)
    assert case_id.startswith("case-")
    assert case_id.removeprefix("case-") == ident
    assert case_id_for(ident) == case_id


@FAST
@given(st.text(min_size=1), st.text(min_size=1))
def test_case_ids_are_distinct_for_distinct_mentions(first: str, second: str) -> None:
    assume(first != second)
    assert case_id_for(first) != case_id_for(second)


# --- RawResponse ---------------------------------------------------------------------------

AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


@FAST
@given(st.binary(max_size=2048), st.text(max_size=40), st.integers(100, 599))
def test_raw_sha256_addresses_the_body_only(body: bytes, url: str, status: int) -> None:
    one = RawResponse(url, status, {"etag": url}, body, AT)
    other = RawResponse("https://elsewhere.example", 200, {}, body, datetime.now(UTC))
    assert HEX64.match(one.sha256)
    assert one.sha256 == other.sha256 == hashlib.sha256(body).hexdigest()


@FAST
@given(st.binary(max_size=256), st.binary(max_size=256))
def test_raw_sha256_differs_for_different_bodies(first: bytes, second: bytes) -> None:
    assume(first != second)
    assert RawResponse("u", 200, {}, first, AT).sha256 != RawResponse("u", 200, {}, second, AT).sha256


def test_raw_content_type_comes_from_the_lower_case_header() -> None:
    # flows.sources.http lower-cases every header name when it builds a RawResponse
    assert RawResponse("u", 200, {"content-type": "text/html; charset=gb2312"}, b"", AT).content_type == (
        "text/html; charset=gb2312"
    )
    assert RawResponse("u", 304, {"etag": '"x"'}, b"", AT).content_type is None


def test_raw_response_is_frozen() -> None:
    raw = RawResponse("u", 200, {}, b"x", AT)
    with pytest.raises(AttributeError):
        raw.body = b"y"  # type: ignore[misc]


# --- Score ---------------------------------------------------------------------------------

probabilities = st.floats(min_value=0, max_value=1, allow_nan=False)


@FAST
@given(probabilities, probabilities, probabilities, st.sampled_from(LABELS))
def test_score_negative_is_the_negative_probability(neg: float, neu: float, pos: float, label: str) -> None:
    score = Score(label, {"negative": neg, "neutral": neu, "positive": pos}, "m")
    assert score.negative == neg


def test_score_without_a_negative_probability_has_no_negative() -> None:
    with pytest.raises(KeyError):
        _ = Score("positive", {"positive": 1.0}, "m").negative


def test_score_themes_default_to_none() -> None:
    assert Score("neutral", {"negative": 0.1, "neutral": 0.8, "positive": 0.1}, "m").themes == ()


def test_labels_are_the_three_the_schema_stores() -> None:
    assert LABELS == ("negative", "neutral", "positive")


def test_case_status_values_are_the_strings_the_store_keeps() -> None:
    assert CaseStatus("pending_approval") is CaseStatus.PENDING_APPROVAL
    assert next(iter(CaseStatus)) == "new" and CaseStatus.DISMISSED == "dismissed"


# --- near-duplicates: the same author saying the same words ----------------------------------------

handles = st.text(alphabet=string.ascii_letters + string.digits + "_.", min_size=1, max_size=20)


@given(
    handles, st.lists(ascii_words, min_size=1, max_size=8), st.sampled_from(["", "@", "/u/", "u/"]), st.data()
)
def test_a_repost_key_ignores_how_the_handle_and_the_words_are_written(
    handle: str, parts: list[str], prefix: str, data: st.DataObject
) -> None:
    written = prefix + (handle.upper() if data.draw(st.booleans()) else handle)
    reworded = "  ".join(p.upper() for p in parts)
    assert repost_key(handle, " ".join(parts)) == repost_key(f" {written} ", f"\n{reworded} ")


@given(handles, handles, st.text(min_size=1))
def test_two_different_authors_never_share_a_repost_key(first: str, second: str, text: str) -> None:
    assume(normalise_author(first) != normalise_author(second))
    assert repost_key(first, text) != repost_key(second, text)


@given(handles, st.lists(ascii_words, min_size=1, max_size=6), st.lists(ascii_words, min_size=1, max_size=6))
def test_one_author_saying_different_words_gets_different_keys(
    handle: str, first: list[str], second: list[str]
) -> None:
    assume([w.casefold() for w in first] != [w.casefold() for w in second])
    assert repost_key(handle, " ".join(first)) != repost_key(handle, " ".join(second))


@given(st.text())
def test_without_an_author_there_is_no_repost_key(text: str) -> None:
    assert repost_key(None, text) is None
    assert repost_key("   ", text) is None


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (None, None),
        (datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 8, tzinfo=UTC)),
        (datetime(2999, 1, 1, tzinfo=UTC), datetime(2026, 11, 30, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, 9, 0, 1, tzinfo=UTC), datetime(2026, 11, 30, 9, tzinfo=UTC)),
    ],
)
def test_a_date_from_the_future_is_the_time_of_collection(
    published: datetime | None, expected: datetime | None
) -> None:
    assert clamp_to_collection(published, datetime(2026, 11, 30, 9, tzinfo=UTC)) == expected


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_clamped_dates_are_never_after_collection(published: datetime, collected: datetime) -> None:
    clamped = clamp_to_collection(published, collected)
    assert clamped is not None and clamped <= collected
    assert clamped == min(published, collected)
