"""The measures the model card reports, and the calibration step, in one place.

Training scripts and ``voxwatch``'s own evaluation use these so a number in the
model card always means the same thing.
"""

from __future__ import annotations

import torch

__all__ = ["binary_accuracy", "fit_temperature", "macro_recall"]


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
