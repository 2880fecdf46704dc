"""Language detection (sentiment/lang.py): script first, then a few common English words.

The language picks a case's owner (who speaks it), its template and its linter
rules, so a wrong code sends a Chinese complaint to an English-only responder.
The rules pinned here: kana means Japanese, hangul outweighing Han means Korean,
Han outweighing Latin (a Han character weighs five letters) means Chinese,
Latin text needs common English words to be English, and anything else is
``und`` rather than a guess. Arbitrary text, however odd, must never raise.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sentiment.lang import _ENGLISH_WORDS, detect_language

CODES = {"en", "zh", "ja", "ko", "und"}


@pytest.mark.parametrize(
    "text",
    [
        "The coffee was cold and the staff ignored me.",
        "I have been waiting for my refund for two weeks",
        "Why is the app down again?",
        "THE ORDER NEVER ARRIVED AND NOBODY ANSWERS",
        "My order from 星巴克 never arrived, this is the worst",  # a brand name in Han, English around it
        "I",
        "don't do that to me",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "外卖送到的时候已经洒了，太失望了。",
        "退款申请提交三天了还没有回复",
        "我在Starbucks买的咖啡太难喝了",  # a Latin brand name inside Chinese
        "App又闪退了",
        "東京大学",  # kanji only, with no kana, reads as Han
        "質量太差",  # traditional characters
        "咖啡",
    ],
)
def test_chinese(text: str) -> None:
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    "text",
    [
        "注文した商品が届きません",
        "コーヒーが冷たい",
        "韓国語と日本語",  # mostly kanji, but one kana is enough
        "アプリ",
        "The app says エラー again",
    ],
)
def test_japanese(text: str) -> None:
    assert detect_language(text) == "ja"


@pytest.mark.parametrize(
    "text",
    [
        "주문한 커피가 아직 안 왔어요",
        "환불해 주세요",
        "한국語",  # more hangul than hanja
        "배달이 너무 늦어요 delivery",
    ],
)
def test_korean(text: str) -> None:
    assert detect_language(text) == "ko"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "12345 !!! ???",
        "🙂🙂🙂 ☕",
        "Der Kaffee war kalt und das Personal unfreundlich",
        "Le café était froid",
        "El pedido nunca llegó",
        "Кофе был холодный",  # Cyrillic is not guessed
        "القهوة باردة",
        "Worst coffee ever",  # English, but none of the common words: not guessed either
    ],
)
def test_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_han_outweighs_latin_at_five_letters_per_character() -> None:
    assert detect_language("咖啡" + "x" * 10) == "zh"  # 2 * 5 >= 10
    assert detect_language("咖啡" + "x" * 11) == "und"  # Latin wins, and xxxxxxxxxxx is no English word
    assert detect_language("咖啡 " + "the " * 3) == "zh"  # 9 Latin letters still lose to two characters
    assert detect_language("咖啡 " + "the " * 4) == "en"  # 12 letters win, and they are English


def test_one_english_word_in_ten_is_enough() -> None:
    nine_others = " ".join(["lorem"] * 9)
    assert detect_language(f"the {nine_others}") == "en"
    assert detect_language(f"the {nine_others} {nine_others} ipsum") == "und"  # 1 in 20 is too few
    assert detect_language(f"the of {nine_others} {nine_others} ipsum") == "en"  # 2 in 21


# --- properties --------------------------------------------------------------------------------


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gets_a_known_code(text: str) -> None:
    assert detect_language(text) in CODES


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from("のアカナひらがなカタカナ"))
def test_any_kana_makes_it_japanese(text: str, kana: str) -> None:
    assert detect_language(text + kana) == "ja"
    assert detect_language(kana + text) == "ja"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=("Lu", "Ll", "Lt", "Lm", "Lo"))))
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(st.characters(min_codepoint=0, max_codepoint=127)))
def test_ascii_text_is_english_or_undetermined_whatever_its_case(text: str) -> None:
    lang = detect_language(text)
    assert lang in {"en", "und"}
    assert detect_language(text.upper()) == detect_language(text.lower()) == lang


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(_ENGLISH_WORDS)), min_size=1, max_size=30))
def test_sentences_of_common_words_are_english(words: list[str]) -> None:
    assert detect_language(" ".join(words)) == "en"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1), st.text())
def test_hangul_beyond_the_han_count_makes_it_korean(han: str, other: str) -> None:
    other = "".join(c for c in other if not c.isalpha())  # no other letters to tip the balance
    assert detect_language(han + other + "가" * (len(han) + 1)) == "ko"
    assert detect_language(han + other) == "zh"
