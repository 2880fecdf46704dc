"""The Chinese route's character n-gram model (sentiment/char_ngrams.py) and how the route mixes it in."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.char_ngrams import MAX_CHARS, CharNgramModel, char_ngrams, mix_polarity
from sentiment.registry import MODELS_DIR
from voxwatch.errors import ModelError

FIXTURES = Path(__file__).parent / "fixtures"
LEX = MODELS_DIR / "e5-head-zh-lex"
# Chinese, full-width forms, Latin letters, digits, punctuation and every kind of white space.
CJK_TEXT = st.text(
    st.sampled_from(list("好差慢凉送餐味道很不会再来难吃外卖，。！？ＡＢｃ１２3abcXYZ!? \t\n\u3000\u00a0")),
    max_size=80,
)


# --- n-grams -------------------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_every_text_gives_distinct_grams_of_one_to_three_characters(text: str) -> None:
    grams = char_ngrams(text)
    assert len(grams) == len(set(grams))
    assert all(1 <= len(g) <= 3 for g in grams)
    assert " " not in grams  # the padding alone says nothing


@given(CJK_TEXT)
def test_white_space_and_width_do_not_change_the_grams(text: str) -> None:
    """A review copied with other line breaks, or typed in full-width letters, reads the same."""
    respaced = re.sub(r"\s+", "\n\t ", f"  {text}\u3000")
    assert set(char_ngrams(respaced)) == set(char_ngrams(text))
    wide = text.replace("!", "！").replace("A", "Ａ").replace("1", "１")
    assert set(char_ngrams(wide)) == set(char_ngrams(text))


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=5), st.integers(min_value=MAX_CHARS, max_value=20 * MAX_CHARS))
def test_a_huge_text_costs_no_more_than_its_head_and_tail(piece: str, length: int) -> None:
    text = (piece * (length // len(piece) + 1))[:length]
    assert len(char_ngrams(text)) <= 3 * (MAX_CHARS + 3)


@pytest.mark.parametrize("text", ["", "   ", "\ud800", "坏\udfff了", "\x00\x1b[31m", "🙂" * 10])
def test_odd_text_gives_grams_and_a_log_odds(text: str) -> None:
    model = CharNgramModel(weights={"坏": (2.0, -3.0)}, bias=0.25)
    (odds,) = model.log_odds([text])
    assert math.isfinite(float(odds))
    if "坏" not in text:
        assert float(odds) == pytest.approx(0.25)  # nothing known: the bias alone


# --- the same numbers as scikit-learn -------------------------------------------------------------

TRAIN = [
    ("味道很好，送餐很快", 1),
    ("非常好吃，下次还点", 1),
    ("服务周到，包装也好", 1),
    ("很满意，分量足", 1),
    ("送餐太慢，饭都凉了", 0),
    ("难吃，再也不会点了", 0),
    ("分量太少，很失望", 0),
    ("态度差，送错了", 0),
    ("好", 1),
    ("差", 0),
]


def test_the_exported_model_scores_as_scikit_learn_does(tmp_path: Path) -> None:
    """What the route computes equals TfidfVectorizer + LogisticRegression's decision function,
    through the JSON file, on texts with known, unknown and no n-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from sentiment.training.train_chinese_lexical import export

    texts, labels = zip(*TRAIN, strict=True)
    vectorizer = TfidfVectorizer(analyzer=char_ngrams, min_df=1)
    fitted = LogisticRegression(C=4.0, class_weight="balanced").fit(vectorizer.fit_transform(texts), labels)
    path = tmp_path / "char_ngrams.json"
    path.write_text(export(vectorizer, fitted).to_json(), encoding="utf-8")
    model = CharNgramModel.load(path)
    probe = ["送餐很快，味道好", "饭凉了，太慢", "ＯＫ！", "", "完全陌生的句子", *texts]
    expected = fitted.decision_function(vectorizer.transform(probe))
    assert model.log_odds(probe).tolist() == pytest.approx(expected.tolist(), abs=1e-4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "char_ngrams.json"),
        ('{"format": "pickle", "bias": 0, "weights": {}}', "format 'pickle'"),
        ('{"format": "char-ngram-logistic", "weights": {}}', "bias"),
        ('{"format": "char-ngram-logistic", "bias": 0, "weights": {"好": [1.0]}}', "char_ngrams.json"),
    ],
)
def test_a_broken_model_file_is_an_error_that_names_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "char_ngrams.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=re.escape(message)):
        CharNgramModel.load(path)


# --- mixing with the head ------------------------------------------------------------------------

PROBS = st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=3, max_size=3).map(
    lambda row: [v / sum(row) for v in row]
)
ODDS = st.floats(min_value=-30, max_value=30)


@settings(deadline=None)  # torch calls: timing on a loaded CI machine is not the point
@given(PROBS, ODDS, st.floats(min_value=0.0, max_value=1.0))
def test_mixing_keeps_a_distribution_and_leaves_neutral_alone(
    probs: list[float], odds: float, weight: float
) -> None:
    mixed = mix_polarity(torch.tensor([probs], dtype=torch.float64), torch.tensor([odds]), weight)[0]
    assert float(mixed.sum()) == pytest.approx(1.0, abs=1e-9)
    assert float(mixed[1]) == pytest.approx(probs[1], abs=1e-12)
    assert bool((mixed >= 0).all())


@settings(deadline=None)  # torch calls: timing on a loaded CI machine is not the point
@given(PROBS, ODDS)
def test_weight_zero_is_the_head_and_weight_one_follows_the_ngrams(probs: list[float], odds: float) -> None:
    row = torch.tensor([probs], dtype=torch.float64)
    assert mix_polarity(row, torch.tensor([odds]), 0.0)[0].tolist() == pytest.approx(probs, abs=1e-9)
    negative, _, positive = mix_polarity(row, torch.tensor([odds]), 1.0)[0].tolist()
    if abs(odds) > 1e-6:
        assert (positive > negative) == (odds > 0)


@settings(deadline=None)  # torch calls: timing on a loaded CI machine is not the point
@given(PROBS, ODDS, ODDS, st.floats(min_value=0.05, max_value=1.0))
def test_more_positive_ngrams_never_lower_the_positive_probability(
    probs: list[float], a: float, b: float, weight: float
) -> None:
    row = torch.tensor([probs, probs], dtype=torch.float64)
    low, high = sorted((a, b))
    mixed = mix_polarity(row, torch.tensor([low, high]), weight)
    assert float(mixed[1, 2]) >= float(mixed[0, 2]) - 1e-12


# --- the shipped Chinese route -------------------------------------------------------------------


def test_a_lexical_weight_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    from sentiment.model import load_folder
    from voxwatch.settings import ModelSettings

    folder = tmp_path / "lex"
    folder.mkdir()
    for name in ("head.safetensors", "char_ngrams.json"):
        (folder / name).write_bytes((LEX / name).read_bytes())
    config = json.loads((LEX / "voxwatch_model.json").read_text(encoding="utf-8"))
    config["lexical"]["weight"] = 1.5
    (folder / "voxwatch_model.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelError, match=r"lexical weight 1\.5"):
        load_folder(folder, ModelSettings())


def test_the_chinese_route_beats_its_head_alone_on_reviews_neither_part_saw(scorer) -> None:
    """The 400 food-delivery reviews held out from the head and the n-grams
    (tests/fixtures/README.md): 0.873 for the head alone (the route before), 0.897 mixed."""
    rows = [
        json.loads(line) for line in (FIXTURES / "zh_waimai_heldout.jsonl").read_text("utf-8").splitlines()
    ]
    scores = scorer.score([r["text"] for r in rows])
    assert {s.model_id for s in scores} == {"voxwatch/multi-v5"}
    right = sum(
        (s.probs["positive"] >= s.probs["negative"]) == (r["label"] == "positive")
        for r, s in zip(rows, scores, strict=True)
    )
    assert right / len(rows) >= 0.89
