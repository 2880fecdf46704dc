"""The measures the model card reports, and the calibration step, in one place.

Training scripts and ``voxwatch``'s own evaluation use these so a number in the
model card always means the same thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

__all__ = ["binary_accuracy", "fit_temperature", "macro_recall", "our_label", "read_jsonl", "read_labelled"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One object per line (the development data's format)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def our_label(label: int, binary: bool) -> int:
    """A dataset label in our order: binary sets are 0 negative / 1 positive -> 0 / 2."""
    return (2 if label == 1 else 0) if binary else int(label)


def read_labelled(path: Path, binary: bool) -> list[tuple[str, int]]:
    """(text, label in our order) pairs."""
    return [(str(r["text"]), our_label(r["label"], binary)) for r in read_jsonl(path)]


def macro_recall(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> float:
    """Mean of per-class recall: the tweets bar, fair to the rare classes."""
    recalls = [float((pred[y == c] == c).float().mean()) for c in range(n_classes) if (y == c).any()]
    return sum(recalls) / len(recalls)


def binary_accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Positive vs negative probability (columns 2 and 0); labels are 0 or 2."""
    pred = torch.where(logits[:, 2] >= logits[:, 0], 2, 0)
    return float((pred == y).float().mean())


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """One scalar that makes softmax probabilities honest on a held-out slice."""
    logits = logits.detach()
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp())
