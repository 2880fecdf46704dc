"""Language detection (sentiment/lang.py): script rules first, then py3langid among our languages.

The language picks a mention's sentiment route, a case's owner (who speaks it),
its template and its linter rules, and trends count mentions by it, so a wrong
code sends a Spanish complaint to a model that cannot read it. The rules pinned
here: kana means Japanese, hangul outweighing Han means Korean, Han outweighing
Latin (a Han character weighs five letters) means Chinese; text with no letters,
or mostly in a script none of our languages is written in, is ``und``; anything
else is one of the eight languages py3langid chooses among. Arbitrary text,
however odd, must never raise.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sentiment.lang import LANGUAGES, LATIN, detect_language

CODES = {*LANGUAGES, "und"}
ARABIC_LETTERS = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي"  # the alphabet, not letters of other languages

EXAMPLES = {
    "en": [
        "The coffee was cold and the staff ignored me.",
        "I have been waiting for my refund for two weeks",
        "Why is the app down again?",
        "THE ORDER NEVER ARRIVED AND NOBODY ANSWERS",
        "My order from 星巴克 never arrived, this is the worst",  # a brand name in Han, English around it
        "Worst coffee ever",
    ],
    "zh": [
        "外卖送到的时候已经洒了，太失望了。",
        "退款申请提交三天了还没有回复",
        "我在Starbucks买的咖啡太难喝了",  # a Latin brand name inside Chinese
        "App又闪退了",
        "東京大学",  # kanji only, with no kana, reads as Han
        "質量太差",  # traditional characters
        "咖啡",
    ],
    "ja": [
        "注文した商品が届きません",
        "コーヒーが冷たい",
        "韓国語と日本語",  # mostly kanji, but one kana is enough
        "アプリ",
        "The app says エラー again",
    ],
    "ko": [
        "주문한 커피가 아직 안 왔어요",
        "환불해 주세요",
        "한국語",  # more hangul than hanja
        "배달이 너무 늦어요 delivery",
    ],
    "es": [
        "El pedido nunca llegó y nadie responde",
        "¡Me encanta este café, el mejor de la ciudad!",
        "Llevo dos semanas esperando el reembolso y nadie me contesta",
    ],
    "fr": [
        "Le café était froid et le personnel désagréable",
        "Merci pour la livraison rapide, tout était parfait",
        "Le service client ne répond jamais, c'est inadmissible !",
    ],
    "de": [
        "Der Kaffee war kalt und das Personal unfreundlich",
        "Meine Bestellung ist immer noch nicht angekommen",
        "Super Service, sehr freundlich und schnell. Danke!",
    ],
    "ar": [
        "القهوة باردة",
        "الخدمة سيئة جدا ولن أعود مرة أخرى",
        "شكرا على الخدمة الممتازة",
    ],
    "hi": [
        "यह फोन बहुत अच्छा है, मुझे पसंद आया",
        "डिलीवरी बहुत देर से हुई",
        "मेरा रिफंड अभी तक नहीं आया",
    ],
    "it": [
        "Il caffè era freddo e il personale scortese",
        "Servizio pessimo, il pacco è arrivato rotto",
        "Ottimo prodotto, consegna velocissima, grazie!",
    ],
    "pt": [
        "O pedido nunca chegou e ninguém responde",
        "Adorei o produto, chegou rápido e bem embalado!",
        "Péssimo atendimento, nunca mais compro nessa loja",
    ],
}


@pytest.mark.parametrize(
    ("text", "lang"), [(text, lang) for lang, texts in EXAMPLES.items() for text in texts]
)
def test_language_of_a_mention(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "12345 !!! ???",
        "🙂🙂🙂 ☕",
        "\x00\x1b\x07\x7f\u200b",  # control and format characters only
        "Кофе был холодный",  # Cyrillic: none of our languages, not guessed
        "Ο καφές ήταν κρύος",  # Greek
        "הקפה היה קר",  # Hebrew
        "กาแฟเย็นชืด",  # Thai
        "Кофе был холодный, ok",  # a Latin word does not outweigh the Cyrillic
    ],
)
def test_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        "the delivery was late " * 5_000,
        "a lone \ud800 surrogate, as JSON may carry it",
        "mixed 中文 and English текст العربية हिन्दी",
        "\u200b\u200e\u202eabc\u2066",
        "e\u0301\u0301 ﻃﻔﻼً",
        "control\x00chars\x1b[31m\x07",
    ],
)
def test_odd_text_gets_a_code_without_raising(text: str) -> None:
    assert detect_language(text) in CODES


def test_han_outweighs_latin_at_five_letters_per_character() -> None:
    assert detect_language("咖啡" + "x" * 10) == "zh"  # 2 * 5 >= 10
    assert detect_language("咖啡" + "x" * 11) != "zh"  # Latin wins
    assert detect_language("咖啡 " + "the " * 3) == "zh"  # 9 Latin letters still lose to two characters
    assert detect_language("咖啡 is the worst coffee") == "en"  # the Han brand name is not read as a language


@pytest.mark.parametrize("text", ["ok", "lol", "meh", "no", "hello", "thanks", "wtf", "nope"])
def test_a_word_too_short_to_tell_is_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(("text", "lang"), [("Gracias", "es"), ("grazie", "it"), ("Obrigado", "pt")])
def test_a_short_word_that_is_clearly_another_language_stays_it(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text", ["Rude barista at Larkspur Union Square", "a quiet , pure , elliptical film"]
)
def test_common_english_words_tip_a_close_call_to_english(text: str) -> None:
    assert detect_language(text) == "en"  # py3langid alone: Italian, Spanish


def test_a_mixed_arabic_tweet_may_be_arabic_but_latin_text_never_is() -> None:
    assert detect_language("RT @user الخدمة سيئة جدا #fail https://t.co/abc") == "ar"
    assert detect_language("ok ok ok") == "en"


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
def test_ascii_text_is_identified_whatever_its_case(text: str) -> None:
    lang = detect_language(text)
    assert lang in {*LATIN, "und"}  # never Arabic or Hindi without their letters
    assert detect_language(text.upper()) == detect_language(text.lower())


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(ARABIC_LETTERS), min_size=1), st.text(" .!؟"))
def test_arabic_letters_are_arabic(letters: str, other: str) -> None:
    assert detect_language(letters + other) == "ar"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1), st.text())
def test_hangul_beyond_the_han_count_makes_it_korean(han: str, other: str) -> None:
    other = "".join(c for c in other if not c.isalpha())  # no other letters to tip the balance
    assert detect_language(han + other + "가" * (len(han) + 1)) == "ko"
    assert detect_language(han + other) == "zh"
