"""The small pure helpers every parser leans on (``flows.sources.text``).

``html_to_text`` decides what the model reads and what a responder sees, so it must
keep every visible word, drop every tag and anything a browser would not show
(scripts, styles, comments), and decode entities exactly once. ``from_iso`` and
``from_struct_time`` give every stored date a time zone, and ``load_json`` turns a
broken body into our own ``ParseError`` naming the URL. Tables pin the known cases;
hypothesis checks the invariants on inputs nobody thought to write down.
"""

from __future__ import annotations

import html
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.sources.text import from_iso, from_struct_time, html_to_text, load_json
from voxwatch.domain import RawResponse
from voxwatch.errors import ParseError

FETCHED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# Visible characters that survive any round trip: no whitespace, controls, surrogates
# or unassigned code points; markup characters, CJK and emoji are all in.
VISIBLE = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co", "Zs", "Zl", "Zp"))
WORD = st.text(VISIBLE, min_size=1, max_size=12)
PLAIN_WORD = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co", "Zs", "Zl", "Zp"), blacklist_characters="<&"),
    min_size=1,
    max_size=12,
)
TAGS = ["p", "b", "i", "em", "strong", "span", "div", "a", "li", "blockquote", "h2", "code"]


def raw(body: bytes, url: str = "https://api.test/search?q=acme") -> RawResponse:
    return RawResponse(url, 200, {"content-type": "application/json"}, body, FETCHED)


# --- html_to_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("plain words", "plain words"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("<p>one</p><p>two</p>", "one two"),
        ("line<br>break<br/>here", "line break here"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&lt;b&gt;shown, not bold&lt;/b&gt;", "<b>shown, not bold</b>"),
        ("caf&eacute; &#233; &#x27;q&#x27;", "café é 'q'"),
        ("&#128512; works", "😀 works"),
        ("&nbsp;padded&nbsp;", "padded"),
        ("a < b and c > d", "a < b and c > d"),
        ("AT&T", "AT&T"),
        ("<script>alert(1)</script>visible", "visible"),
        ("<style>p {color: red}</style><p>styled</p>", "styled"),
        ("<div><script type='x'>nested()</script>kept</div>", "kept"),
        ("before<!-- a comment -->after", "before after"),
        ('<a href="https://x.test/?a=1&amp;b=2">link text</a>', "link text"),
        ("<ul><li>first</li><li>second</li></ul>", "first second"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("<html><body><p>whole page</p></body></html>", "whole page"),
        ("我们的<b>咖啡</b>很好", "我们的 咖啡 很好"),
        ("", ""),
        ("<p></p>", ""),
        ("<img src='x.png'>", ""),
    ],
)
def test_html_to_text_table(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_inline_markup_inside_a_word_splits_it() -> None:
    """Known behaviour: every text node is joined with a space, so ``<b>A</b>cme`` reads "A cme"."""
    assert html_to_text("<b>A</b>cme") == "A cme"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_html_to_text_takes_any_text_and_returns_collapsed_whitespace(markup: str) -> None:
    text = html_to_text(markup)
    assert text == text.strip()
    assert "  " not in text and "\n" not in text and "\t" not in text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TAGS), PLAIN_WORD), min_size=1, max_size=8))
def test_tags_around_words_are_dropped_and_every_word_kept_in_order(parts: list[tuple[str, str]]) -> None:
    markup = " ".join(f"<{tag}>{html.escape(word, quote=False)}</{tag}>" for tag, word in parts)
    text = html_to_text(markup)
    assert text.split() == [word for _, word in parts]
    assert "<" not in text


@settings(max_examples=300, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=10))
def test_escaped_words_come_back_decoded_exactly_once(words: list[str]) -> None:
    markup = "<p>" + " ".join(html.escape(w) for w in words) + "</p>"
    assert html_to_text(markup) == " ".join(words)


@settings(max_examples=300, deadline=None)
@given(st.lists(PLAIN_WORD, max_size=10), st.sampled_from(TAGS))
def test_html_to_text_is_idempotent_on_output_without_markup_characters(words: list[str], tag: str) -> None:
    once = html_to_text(f"<{tag}>" + "\n".join(words) + f"</{tag}>")
    assert html_to_text(once) == once == " ".join(words)


@settings(max_examples=200, deadline=None)
@given(st.lists(PLAIN_WORD, min_size=1, max_size=6), st.text(max_size=40))
def test_script_and_style_bodies_never_leak_into_the_text(words: list[str], code: str) -> None:
    hidden = html.escape(code, quote=False).replace("</", "<\\/")
    markup = f"<script>{hidden}SECRETJS</script>{' '.join(words)}<style>{hidden}SECRETCSS</style>"
    text = html_to_text(markup)
    assert "SECRETJS" not in text and "SECRETCSS" not in text
    assert text.split() == words


# --- from_iso ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-21T08:30:00Z", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T08:30:00.123Z", datetime(2026, 11, 21, 8, 30, 0, 123000, tzinfo=UTC)),
        ("2026-11-21T08:30:00+00:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T10:30:00+02:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T08:30:00-07:00", datetime(2026, 11, 21, 15, 30, tzinfo=UTC)),
        ("2026-11-21T08:30:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21", datetime(2026, 11, 21, tzinfo=UTC)),
        ("  2026-11-21T08:30Z  ", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21 08:30:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
    ],
)
def test_from_iso_reads_dates_and_datetimes(value: str, expected: datetime) -> None:
    parsed = from_iso(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize(
    "value",
    ["", "   ", "yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "21/11/2026", "Z", None, 1700000000, 3.5],
)
def test_from_iso_gives_none_for_junk_and_non_strings(value: object) -> None:
    assert from_iso(value) is None


def test_from_iso_keeps_the_offset_it_was_given() -> None:
    parsed = from_iso("2026-11-21T10:30:00+02:00")
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=2)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_from_iso_on_any_string_is_aware_or_none(value: str) -> None:
    parsed = from_iso(value)
    assert parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is not None)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min])))
def test_from_iso_round_trips_aware_datetimes(moment: datetime) -> None:
    assert from_iso(moment.isoformat()) == moment


@settings(max_examples=300, deadline=None)
@given(st.datetimes())
def test_from_iso_takes_naive_values_as_utc(moment: datetime) -> None:
    assert from_iso(moment.isoformat()) == moment.replace(tzinfo=UTC)
    assert from_iso(moment.isoformat() + "Z") == moment.replace(tzinfo=UTC)  # "Z" is +00:00


# --- from_struct_time ---------------------------------------------------------------------------------


def test_from_struct_time_reads_utc_struct_times() -> None:
    stamp = time.strptime("2026-11-21 08:30:00", "%Y-%m-%d %H:%M:%S")
    assert from_struct_time(stamp) == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert from_struct_time(None) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=4_102_444_800))  # 1970 .. 2100
def test_from_struct_time_round_trips_gmtime(seconds: int) -> None:
    parsed = from_struct_time(time.gmtime(seconds))
    assert parsed == datetime.fromtimestamp(seconds, tz=UTC)
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


# --- load_json ----------------------------------------------------------------------------------------

UNICODE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | UNICODE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(UNICODE, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_load_json_reads_any_json_in_any_unicode_encoding(value: Any, encoding: str) -> None:
    body = json.dumps(value, ensure_ascii=False).encode(encoding)
    assert load_json(raw(body)) == value


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"hits": [', b"<html>Too many requests</html>", b"\xff\xfe\xfa", b"{'single': 1}", b"[1,]"],
)
def test_load_json_turns_broken_bodies_into_a_parse_error_naming_the_url(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"https://api\.test/search\?q=acme: response is not valid JSON"):
        load_json(raw(body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_load_json_on_any_bytes_returns_a_value_or_raises_parse_error(body: bytes) -> None:
    try:
        value = load_json(raw(body))
    except ParseError as exc:
        assert "https://api.test/search?q=acme" in str(exc)
    else:  # only a complete JSON document gets here: a value of one of JSON's own types
        assert isinstance(value, dict | list | str | int | float | bool | type(None))
