"""Train the Chinese route's character n-gram model and ship it beside the e5 head, in one command.

    python -m sentiment.training.train_chinese_lexical --data ../shared/data/sentiment [--loco]

Why: the e5 head reads Chinese through an embedding that carries a review's topic
as much as its feeling, and reached 0.859 on food-delivery reviews when trained
without any; a logistic regression on character n-grams reads sentiment words
that mean the same in every domain (:mod:`sentiment.char_ngrams`). What it does,
with the fixed seed and the same samples as ``train_chinese``:

1. unseen domain: the n-gram model trained on every shopping review (no food
   delivery) and the e5 head trained as ``train_chinese`` trains its unseen-domain
   head are scored on the same 4,000 food-delivery reviews, alone and mixed as the
   route mixes them (:func:`sentiment.char_ngrams.mix_polarity`);
2. ``--loco`` (encodes all 52,773 shopping reviews, about 8 minutes): each shopping
   category held out in turn, the figures that chose ``C`` and the mixing weight
   without looking at food delivery;
3. the shipped n-gram model: every shopping and food-delivery review except the
   slices ``train_chinese`` holds out for reporting (on which it reports accuracy
   alone and mixed with the shipped head) and the reviews in the tests' fixtures;
4. writes ``sentiment/models/e5-head-zh-lex`` (the shipped head, its temperature
   and the n-gram model) and, when mixing beat the head alone on the unseen
   domain, the router ``multi-v5`` (also the default) with Chinese on it. Japanese
   and Korean stay on the head alone: the n-grams were learned from Chinese.

Embeddings come from the wheel's encoder in torch (the engine's to cosine 0.9999,
several times faster); ``--cache`` keeps them between runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sentiment.char_ngrams import CharNgramModel, char_ngrams, mix_polarity
from sentiment.registry import MODELS_DIR
from sentiment.training.compare_cjk_routes import save_router
from sentiment.training.evaluate import read_jsonl
from sentiment.training.train_chinese import (
    SEED,
    CachedEncoder,
    draw_samples,
    fit_head,
    labels_of,
    reporting_size,
)

log = logging.getLogger(__name__)

C = 4.0  # inverse regularisation, chosen by the held-out categories (--loco)
WEIGHT = 0.5  # the n-gram model's share of the mixed log odds, chosen the same way
MIN_DF = 2  # an n-gram seen once is a typo or a name
VOCABULARY = 30_000  # n-grams kept (by coefficient size) in the shipped file
HEAD_FOLDER = "e5-head-zh-torch"
OUT_FOLDER = "e5-head-zh-lex"
MODEL_ID = "voxwatch/e5-small-head-zh-v1-lex"
BASE_ROUTER = "multi-v4"
ROUTER = "multi-v5"
ROUTER_ID = "voxwatch/multi-v5"
TEST_FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sentiment_sample.jsonl"


def fit_ngrams(texts: Sequence[str], labels: Sequence[int], c: float = C) -> CharNgramModel:
    """Class-balanced logistic regression on idf-weighted n-gram sets, then refitted on the
    ``VOCABULARY`` n-grams with the largest coefficients so the shipped file stays small."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def fit(vocabulary: Sequence[str] | None) -> tuple[Any, Any]:
        vectorizer = TfidfVectorizer(analyzer=char_ngrams, min_df=MIN_DF, vocabulary=vocabulary)
        x = vectorizer.fit_transform(texts)
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, labels)
        return vectorizer, model

    vectorizer, model = fit(None)
    names = vectorizer.get_feature_names_out()
    keep = sorted(names[np.argsort(-np.abs(model.coef_[0]))[:VOCABULARY]].tolist())
    vectorizer, model = fit(keep)
    return export(vectorizer, model)


def export(vectorizer: Any, model: Any) -> CharNgramModel:
    """A fitted ``TfidfVectorizer`` and binary ``LogisticRegression`` as a :class:`CharNgramModel`."""
    if list(model.classes_) != [0, 1]:
        raise ValueError(f"expected labels 0 (negative) and 1 (positive), got {list(model.classes_)}")
    names = vectorizer.get_feature_names_out()
    weights = {
        str(g): (float(idf), float(coef))
        for g, idf, coef in zip(names, vectorizer.idf_, model.coef_[0], strict=True)
    }
    return CharNgramModel(weights=weights, bias=float(model.intercept_[0]))


def polar_accuracy(probs: torch.Tensor, positive: Sequence[int]) -> float:
    """Positive vs negative probability against 0/1 labels, as the Chinese bar is defined."""
    predicted = (probs[:, 2] >= probs[:, 0]).long()
    return float((predicted == torch.tensor(list(positive))).float().mean())


def head_probs(head: torch.nn.Linear, x: torch.Tensor, temperature: float) -> torch.Tensor:
    with torch.no_grad():
        return (head(x) / temperature).softmax(dim=-1)


class TorchE5:
    """The wheel's multilingual-e5-small in torch: the encoder the route runs."""

    def __init__(self) -> None:
        from sentiment.e5_scorer import wheel_embedder

        self.embedder = wheel_embedder(batch_size=16, max_length=256)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts).numpy()


def unseen_domain(
    shopping_all: list[dict], samples: dict[str, list[dict]], encode: CachedEncoder, temperature: float
) -> dict[str, float]:
    """Food-delivery reviews scored by models that never saw one."""
    ngrams = fit_ngrams([r["text"] for r in shopping_all], [r["label"] for r in shopping_all])
    shop, tweets, waimai = samples["shopping"], samples["tweets"], samples["waimai"]
    head = fit_head(
        torch.cat([encode(shop), encode(tweets)]),
        torch.cat([labels_of(shop, True), labels_of(tweets, False)]),
    )
    probs = head_probs(head, encode(waimai), temperature)
    texts, gold = [r["text"] for r in waimai], [r["label"] for r in waimai]
    odds = ngrams.log_odds(texts)
    return {
        "zh_waimai_unseen_domain_head_accuracy": polar_accuracy(probs, gold),
        "zh_waimai_unseen_domain_ngram_accuracy": float(
            ((odds >= 0).long() == torch.tensor(gold)).float().mean()
        ),
        "zh_waimai_unseen_domain_mixed_accuracy": polar_accuracy(mix_polarity(probs, odds, WEIGHT), gold),
    }


def held_out_categories(
    shopping_all: list[dict], encode: CachedEncoder, temperature: float
) -> dict[str, Any]:
    """Each shopping category scored by models trained on the others: mean accuracy per (C, weight)."""
    rng = np.random.default_rng(SEED)
    x_all = encode(shopping_all)
    categories = np.array([r.get("category", "") for r in shopping_all])
    grid: dict[str, list[float]] = {}
    for category in sorted(set(categories)):
        test = np.flatnonzero(categories == category)
        test = rng.choice(test, 2000, replace=False) if len(test) > 2000 else test
        train = np.flatnonzero(categories != category)
        train_rows, test_rows = [shopping_all[i] for i in train], [shopping_all[i] for i in test]
        head = fit_head(x_all[train], labels_of(train_rows, True))
        probs = head_probs(head, x_all[test], temperature)
        gold = [r["label"] for r in test_rows]
        for c in (0.5, 1.0, 2.0, 4.0):
            odds = fit_ngrams([r["text"] for r in train_rows], [r["label"] for r in train_rows], c).log_odds(
                [r["text"] for r in test_rows]
            )
            for weight in (0.0, 0.3, 0.4, 0.5, 0.6, 1.0):
                grid.setdefault(f"C={c} weight={weight}", []).append(
                    polar_accuracy(mix_polarity(probs, odds, weight), gold)
                )
        log.info("held out %s: %s", category, {k: round(v[-1], 3) for k, v in grid.items() if "C=4.0" in k})
    return {key: {"mean": float(np.mean(v)), "min": float(np.min(v))} for key, v in grid.items()}


def shipped(
    shopping_all: list[dict],
    waimai_all: list[dict],
    samples: dict[str, list[dict]],
    models: Path,
    encode: CachedEncoder,
    temperature: float,
) -> tuple[CharNgramModel, dict[str, float]]:
    """The n-gram model on everything but ``train_chinese``'s reporting slices, scored on those."""
    reporting = {
        name: rows[: reporting_size(len(rows))] for name, rows in samples.items() if name != "tweets"
    }
    kept = {r["text"] for rows in reporting.values() for r in rows} | test_fixture_texts()
    train = [r for r in shopping_all + waimai_all if r["text"] not in kept]
    ngrams = fit_ngrams([r["text"] for r in train], [r["label"] for r in train])
    from safetensors.torch import load_file

    head = torch.nn.Linear(384, 3)
    head.load_state_dict(load_file(str(models / HEAD_FOLDER / "head.safetensors")))
    metrics = {}
    for name, rows in reporting.items():
        texts, gold = [r["text"] for r in rows], [r["label"] for r in rows]
        probs = head_probs(head, encode(rows), temperature)
        odds = ngrams.log_odds(texts)
        metrics[f"zh_{name}_heldout_head_accuracy"] = polar_accuracy(probs, gold)
        metrics[f"zh_{name}_heldout_mixed_accuracy"] = polar_accuracy(mix_polarity(probs, odds, WEIGHT), gold)
    return ngrams, metrics


def test_fixture_texts() -> set[str]:
    """The reviews the test suite checks the shipped route on: never trained on."""
    return {str(json.loads(line)["text"]) for line in TEST_FIXTURE.read_text(encoding="utf-8").splitlines()}


def write_folder(models: Path, ngrams: CharNgramModel, metrics: dict[str, Any]) -> Path:
    out = models / OUT_FOLDER
    out.mkdir(exist_ok=True)
    shutil.copyfile(models / HEAD_FOLDER / "head.safetensors", out / "head.safetensors")
    config = json.loads((models / HEAD_FOLDER / "voxwatch_model.json").read_text(encoding="utf-8"))
    config.update(
        model_id=MODEL_ID,
        head_from=HEAD_FOLDER,
        lexical={"file": "char_ngrams.json", "weight": WEIGHT, "C": C, "vocabulary": len(ngrams.weights)},
    )
    (out / "voxwatch_model.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "char_ngrams.json").write_text(ngrams.to_json(), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return out


def write_router(models: Path) -> dict[str, str]:
    """``multi-v5``: ``multi-v4``'s routes with Chinese on the head mixed with n-grams; also the default."""
    config = json.loads((models / BASE_ROUTER / "voxwatch_model.json").read_text(encoding="utf-8"))
    routes = {**config["routes"], "zh": OUT_FOLDER}
    save_router(models, ROUTER, {**config, "model_id": ROUTER_ID, "routes": routes})
    return routes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--per-category", type=int, default=1000)
    parser.add_argument("--waimai", type=int, default=4000)
    parser.add_argument("--tweets", type=int, default=6000)
    parser.add_argument("--loco", action="store_true", help="also hold out each shopping category in turn")
    parser.add_argument("--cache", type=Path, default=None, help="npz file to keep embeddings between runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    shopping_all = read_jsonl(args.data / "zh_shopping_train.jsonl")
    waimai_all = read_jsonl(args.data / "zh_waimai_train.jsonl")
    samples = draw_samples(  # the same samples as train_chinese
        shopping_all,
        waimai_all,
        read_jsonl(args.data / "en_tweets_train.jsonl"),
        args.per_category,
        args.waimai,
        args.tweets,
    )
    head_config = json.loads((args.models / HEAD_FOLDER / "voxwatch_model.json").read_text(encoding="utf-8"))
    temperature = float(head_config["temperature"])
    encode = CachedEncoder(args.cache, TorchE5())

    metrics: dict[str, Any] = unseen_domain(shopping_all, samples, encode, temperature)
    log.info("unseen domain: %s", metrics)
    if args.loco:
        metrics["shopping_categories_held_out"] = held_out_categories(shopping_all, encode, temperature)
    ngrams, heldout = shipped(shopping_all, waimai_all, samples, args.models, encode, temperature)
    metrics.update(heldout)
    log.info("held out: %s", heldout)
    log.info("written to %s", write_folder(args.models, ngrams, metrics))
    if metrics["zh_waimai_unseen_domain_mixed_accuracy"] > metrics["zh_waimai_unseen_domain_head_accuracy"]:
        log.info("router %s: %s", ROUTER_ID, write_router(args.models))


if __name__ == "__main__":
    main()
