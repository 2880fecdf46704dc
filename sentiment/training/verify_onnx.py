"""Decide whether the English model may run as dynamic-int8 ONNX: only if accuracy holds.

Int8 here is ONNX Runtime's dynamic quantization with per-channel weight scales
(``sentiment.onnx_backend``), exactly what the scorer would run.

    python -m sentiment.training.verify_onnx --data ../shared/data/sentiment [--model-dir DIR]

Scores the held-out slices (TweetEval validation, SST-2 dev) with the torch path
and with the int8 ONNX path, and writes the verdict into the model's config
(``"onnx": "int8"`` when neither measure drops by more than ``--tolerance``,
else ``"fp32"``) and both sets of figures into its ``metrics.json``. Run by
``train_english`` at the end; kept apart so it can be re-run on its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from sentiment.registry import LABELS
from sentiment.training.evaluate import binary_accuracy, macro_recall, read_labelled

log = logging.getLogger(__name__)
DEFAULT_DIR = Path(__file__).parent.parent / "models" / "minilm-en"


def _rows(path: Path, binary: bool) -> tuple[list[str], torch.Tensor]:
    rows = read_labelled(path, binary)
    return [text for text, _ in rows], torch.tensor([label for _, label in rows])


def held_out_metrics(model_dir: Path, data: Path, backend: str, cache: Path) -> dict[str, float]:
    from sentiment.model import EncoderHeadScorer
    from voxwatch.settings import ModelSettings

    config = json.loads((model_dir / "voxwatch_model.json").read_text(encoding="utf-8"))
    if backend == "onnx-int8":
        config["onnx"] = "int8"
        scratch = Path(tempfile.mkdtemp())
        for item in model_dir.iterdir():
            (scratch / item.name).symlink_to(item.resolve())
        (scratch / "voxwatch_model.json").unlink()
        (scratch / "voxwatch_model.json").write_text(json.dumps(config), encoding="utf-8")
        model_dir = scratch
    settings = ModelSettings(
        backend="onnx" if backend == "onnx-int8" else "torch", onnx_cache=cache, batch_size=64
    )
    scorer = EncoderHeadScorer(model_dir, settings)
    tweets, y_tweets = _rows(data / "en_tweets_val.jsonl", binary=False)
    sst, y_sst = _rows(data / "en_sst2_dev.jsonl", binary=True)

    def probs(texts: list[str]) -> torch.Tensor:
        return torch.tensor([[s.probs[label] for label in LABELS] for s in scorer.score(texts)])

    return {
        "tweets_macro_recall": macro_recall(probs(tweets).argmax(-1), y_tweets, len(LABELS)),
        "sst2_accuracy": binary_accuracy(probs(sst), y_sst),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--tolerance", type=float, default=0.01)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with tempfile.TemporaryDirectory() as cache:
        torch_metrics = held_out_metrics(args.model_dir, args.data, "torch", Path(cache))
        int8_metrics = held_out_metrics(args.model_dir, args.data, "onnx-int8", Path(cache))
    holds = all(torch_metrics[k] - int8_metrics[k] <= args.tolerance for k in torch_metrics)
    log.info("torch %s, onnx int8 %s: int8 %s", torch_metrics, int8_metrics, "holds" if holds else "drops")
    config_path = args.model_dir / "voxwatch_model.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["onnx"] = "int8" if holds else "fp32"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    metrics_path = args.model_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["scorer_torch"] = torch_metrics
    metrics["scorer_onnx_int8"] = int8_metrics
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
