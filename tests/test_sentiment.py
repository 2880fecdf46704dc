"""The shipped model, loaded offline, through the one scoring interface."""

from __future__ import annotations

import math

import pytest

from sentiment.encoder import head_and_tail
from sentiment.lang import detect_language
from sentiment.model import load_scorer
from voxwatch.domain import LABELS
from voxwatch.errors import ModelError
from voxwatch.settings import ModelSettings


def test_clear_praise_and_clear_complaints_are_told_apart(scorer) -> None:
    praise, complaint = scorer.score(
        [
            "Absolutely love this place, the staff are wonderful and the coffee is perfect.",
            "Worst service ever. Rude staff, cold coffee, and they charged me twice. Never again.",
        ]
    )
    assert praise.label == "positive" and praise.probs["positive"] > 0.7
    assert complaint.label == "negative" and complaint.probs["negative"] > 0.7


@pytest.mark.parametrize(
    "text",
    ["", "🙂🙂🙂", "x" * 100_000, "mixed 中文 and English текст", "control\x00chars\x1b[31m", "   "],
)
def test_odd_input_still_gets_a_proper_distribution(scorer, text: str) -> None:
    (score,) = scorer.score([text])
    assert set(score.probs) == set(LABELS)
    assert math.isclose(sum(score.probs.values()), 1.0, abs_tol=1e-5)
    assert score.label in LABELS
    assert score.model_id == "voxwatch/minilm-l6-head-v1"


def test_batch_order_is_kept_whatever_the_lengths(scorer) -> None:
    texts = ["I hate it. " * 40, "great", "It is fine I guess. " * 10, "terrible!!"]
    one_by_one = [scorer.score([t])[0].probs["negative"] for t in texts]
    batched = [s.probs["negative"] for s in scorer.score(texts)]
    assert batched == pytest.approx(one_by_one, abs=1e-4)


def test_long_texts_keep_head_and_tail() -> None:
    assert head_and_tail(list(range(10)), 4) == [0, 1, 8, 9]
    assert head_and_tail([1, 2], 4) == [1, 2]


def test_a_model_that_cannot_load_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelError, match=str(tmp_path)):
        load_scorer(ModelSettings(name=str(tmp_path / "no-such-model")))


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The delivery was late again and nobody answered.", "en"),
        ("外卖送到的时候咖啡全洒了", "zh"),
        ("コーヒーが冷たい", "ja"),
        ("커피가 차가워요", "ko"),
        ("Der Kaffee war kalt", "und"),
        ("Larkspur 的咖啡很好喝", "zh"),
    ],
)
def test_language_is_detected_from_script(text: str, lang: str) -> None:
    assert detect_language(text) == lang
