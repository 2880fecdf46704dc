"""Complaint themes (sentiment/themes.py): the shipped definition, a user's own file, and tagging.

Themes are stored with every score, feed routing rules and the leaders' trends,
and an ``urgent`` theme raises a complaint's tier; so a tagger that misses
"refund" or "退款", or a broken user file that is silently ignored, changes who
answers what and how fast. Definitions are data: a user's file replaces the
shipped one, and every problem in it must be a ``SettingsError`` naming it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sentiment.themes import Theme, load_themes, tag_themes, urgent_theme_ids
from voxwatch.errors import SettingsError

SHIPPED_IDS = [
    "delivery",
    "refund_billing",
    "product_quality",
    "staff_attitude",
    "waiting_speed",
    "price",
    "app_website",
    "safety",
]
USER_THEMES = """
[[themes]]
id = "loyalty"
label = "Loyalty programme"
patterns = ["\\\\bpoints?\\\\b", "\\\\brewards?\\\\b", "积分"]

[[themes]]
id = "recall"
urgent = true
patterns = ["\\\\brecall(ed)?\\\\b", "召回"]
"""


def write(tmp_path: Path, text: str, name: str = "themes.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped definition ------------------------------------------------------------------


def test_the_shipped_themes_in_definition_order() -> None:
    themes = load_themes()
    assert [t.id for t in themes] == SHIPPED_IDS
    assert all(t.label and t.patterns for t in themes)
    assert {t.id: t.label for t in themes}["refund_billing"] == "Refund / billing"


def test_only_safety_is_urgent_in_the_shipped_definition() -> None:
    assert urgent_theme_ids() == frozenset({"safety"})
    assert [t.id for t in load_themes() if t.urgent] == ["safety"]


def test_loading_is_cached_per_file() -> None:
    assert load_themes() is load_themes()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My order never arrived and the courier won't answer", ["delivery"]),
        ("I was charged twice and still no refund", ["refund_billing"]),
        ("REFUND ME NOW", ["refund_billing"]),
        ("The cup was broken and the coffee was stale", ["product_quality"]),
        ("The barista was rude and rolled her eyes at me", ["staff_attitude"]),
        ("We waited 40 minutes, the queue was endless", ["waiting_speed"]),
        ("Way too expensive for what it is, total rip-off", ["price"]),
        ("The app crashed at checkout", ["app_website"]),
        ("There was glass in my sandwich", ["safety"]),
        ("I had an allergic reaction and ended up in hospital", ["safety"]),
        ("外卖没送到，骑手也不接电话", ["delivery"]),
        ("多扣了钱，退款一直没到账", ["refund_billing"]),
        ("服务员态度很差", ["staff_attitude"]),
        ("排队等了一个小时", ["waiting_speed"]),
        ("小程序又闪退了", ["app_website"]),
        ("吃完食物中毒住院了", ["safety"]),
        ("The courier was rude and the delivery was late", ["delivery", "staff_attitude"]),
        (
            "Refund please, the app charged me and the parcel never came",
            ["delivery", "refund_billing", "app_website"],
        ),
        ("Lovely staff, great coffee!", []),
        ("", []),
        ("Redelivery", []),  # patterns are whole words: "delivery" inside another word is not a theme
        ("appetite", []),
    ],
)
def test_tag_themes(text: str, expected: list[str]) -> None:
    assert tag_themes(text, load_themes()) == expected


# --- a user's own file ---------------------------------------------------------------------------


def test_a_user_file_replaces_the_shipped_themes(tmp_path: Path) -> None:
    themes = load_themes(write(tmp_path, USER_THEMES))
    assert [(t.id, t.label, t.urgent) for t in themes] == [
        ("loyalty", "Loyalty programme", False),
        ("recall", "recall", True),  # the label defaults to the id
    ]
    assert tag_themes("My reward points vanished after the recall", themes) == ["loyalty", "recall"]
    assert tag_themes("积分没了", themes) == ["loyalty"]
    assert tag_themes("My refund never came", themes) == []  # the shipped themes are gone


def test_urgent_theme_ids_come_from_the_user_file(tmp_path: Path) -> None:
    assert urgent_theme_ids(write(tmp_path, USER_THEMES)) == frozenset({"recall"})
    assert (
        urgent_theme_ids(write(tmp_path, '[[themes]]\nid = "x"\npatterns = ["x"]\n', "calm.toml"))
        == frozenset()
    )


def test_an_empty_themes_list_tags_nothing(tmp_path: Path) -> None:
    themes = load_themes(write(tmp_path, "themes = []\n"))
    assert themes == ()
    assert tag_themes("refund, glass in my food, rude staff", themes) == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[[themes]\nid = 'x'", "TOMLDecodeError"),
        ('[[themes]]\nid = "x"\n', "KeyError('patterns')"),
        ('[[themes]]\npatterns = ["x"]\n', "KeyError('id')"),
        ('[[topics]]\nid = "x"\npatterns = ["x"]\n', "KeyError('themes')"),
        ("themes = 3\n", "TypeError"),
        ('[[themes]]\nid = "x"\npatterns = 3\n', "TypeError"),
    ],
)
def test_a_broken_user_file_is_a_settings_error_naming_it(tmp_path: Path, text: str, detail: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        load_themes(path)
    assert f"themes in {path}" in str(raised.value) and detail in str(raised.value)


def test_a_missing_user_file_is_a_settings_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone.toml"
    with pytest.raises(SettingsError, match=f"cannot read themes {missing}: No such file"):
        load_themes(missing)


def test_a_bad_pattern_is_a_settings_error_naming_the_theme(tmp_path: Path) -> None:
    path = write(tmp_path, '[[themes]]\nid = "broken"\npatterns = ["(unclosed"]\n')
    with pytest.raises(SettingsError, match=r"theme 'broken': bad pattern"):
        load_themes(path)


def test_a_theme_built_in_code_compiles_its_patterns_case_insensitively() -> None:
    theme = Theme("t", "T", ("\\bfoo\\b", "巴"))
    assert theme.regex.search("a FOO b") and theme.regex.search("巴士")
    assert not theme.regex.search("food")
    assert tag_themes("Foo!", (theme,)) == ["t"]


# --- properties ------------------------------------------------------------------------------------

# Words that hit themes, words that nearly do, and filler: so generated texts get tags often.
VOCAB = [
    "refund", "charged", "courier", "never arrived", "broken", "rude", "queue", "waited", "expensive",
    "app", "crashed", "glass in", "hospital", "mould", "退款", "外卖", "态度", "排队", "太贵", "闪退",
    "过敏", "coffee", "the", "was", "my", "order", "redelivery", "appetite", "pricing", "乐", "!", ",",
]  # fmt: skip
texts = st.lists(st.sampled_from(VOCAB) | st.text(max_size=8), max_size=12).map(" ".join)
THEMES = load_themes()


@hypothesis_settings(max_examples=300, deadline=None)
@given(texts)
def test_tags_are_theme_ids_in_definition_order_without_repeats(text: str) -> None:
    tags = tag_themes(text, THEMES)
    assert tags == [theme_id for theme_id in SHIPPED_IDS if theme_id in tags]
    assert tag_themes(text, THEMES) == tags  # deterministic


@hypothesis_settings(max_examples=300, deadline=None)
@given(texts, st.randoms(use_true_random=False))
def test_case_does_not_change_the_tags(text: str, rng: random.Random) -> None:
    ascii_text = text.encode("ascii", "ignore").decode()  # case changes keep ASCII's word boundaries
    mixed = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in ascii_text)
    assert (
        tag_themes(mixed, THEMES) == tag_themes(ascii_text.lower(), THEMES) == tag_themes(ascii_text, THEMES)
    )


@hypothesis_settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_joining_two_texts_keeps_the_themes_of_both(first: str, second: str) -> None:
    joined = set(tag_themes(f"{first} \n {second}", THEMES))
    assert joined >= set(tag_themes(first, THEMES)) | set(tag_themes(second, THEMES))


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.sampled_from([t for t in VOCAB if t.isascii() and t.strip(",!")]), texts)
def test_a_theme_word_is_tagged_wherever_it_stands(word: str, text: str) -> None:
    alone = tag_themes(word, THEMES)
    assert set(alone) <= set(tag_themes(f"{text} {word} {text}", THEMES))
