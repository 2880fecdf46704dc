"""One interface for every sentiment model: ``scorer.score(texts) -> list[Score]``.

Two kinds of model directory are understood:

* ``encoder-head`` (our format, ``voxwatch_model.json``): a sentence encoder named
  by reference (a wheel, a directory or a hub id) plus a small trained head. The
  shipped default is one of these.
* anything ``AutoModelForSequenceClassification`` loads (a local directory or, for
  users online, a hub id), with its labels mapped onto negative / neutral /
  positive by the model config or by ``model.label_map`` in settings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import torch

from sentiment.registry import resolve_encoder, resolve_model_dir
from voxwatch.domain import LABELS, Score
from voxwatch.errors import ModelError
from voxwatch.settings import ModelSettings

log = logging.getLogger(__name__)


class Scorer(Protocol):
    model_id: str

    def score(self, texts: Sequence[str]) -> list[Score]: ...


def _scores(probs: torch.Tensor, model_id: str) -> list[Score]:
    out = []
    for row in probs.tolist():
        named = dict(zip(LABELS, row, strict=True))
        out.append(Score(label=max(named, key=named.__getitem__), probs=named, model_id=model_id))
    return out


class EncoderHeadScorer:
    """A frozen sentence encoder plus a linear head and a calibration temperature."""

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        from safetensors.torch import load_file

        from sentiment.encoder import MeanPoolEncoder

        config = json.loads((model_dir / "voxwatch_model.json").read_text(encoding="utf-8"))
        if tuple(config["labels"]) != LABELS:
            raise ModelError(f"model {model_dir}: labels {config['labels']} are not {list(LABELS)}")
        self.model_id: str = config["model_id"]
        self.batch_size = batch_size
        self.temperature = float(config.get("temperature", 1.0))
        self.encoder = MeanPoolEncoder(resolve_encoder(config["encoder"]), config.get("max_tokens", 128))
        weights = load_file(str(model_dir / "head.safetensors"))
        self.head = torch.nn.Linear(weights["weight"].shape[1], len(LABELS))
        self.head.load_state_dict(weights)
        self.head.eval()

    def score(self, texts: Sequence[str]) -> list[Score]:
        with torch.inference_mode():
            logits = self.head(self.encoder.encode(texts, self.batch_size)) / self.temperature
        return _scores(logits.softmax(dim=-1), self.model_id)


class SequenceClassifierScorer:
    """Any transformers sequence-classification model, labels mapped onto ours."""

    def __init__(self, name: str, label_map: Mapping[str, str], batch_size: int = 32) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.model_id = name
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForSequenceClassification.from_pretrained(name)
        self.model.eval()
        id2label = {int(i): str(label) for i, label in self.model.config.id2label.items()}
        mapping = {label.lower(): label.lower() for label in LABELS} | {
            k.lower(): v for k, v in label_map.items()
        }
        self.columns: list[int] = []
        for index in range(len(id2label)):
            ours = mapping.get(id2label[index].lower())
            if ours is None:
                raise ModelError(
                    f"model {name!r}: label {id2label[index]!r} is not mapped; set model.label_map "
                    f"to map each of {sorted(id2label.values())} to negative, neutral or positive"
                )
            self.columns.append(LABELS.index(ours))

    def score(self, texts: Sequence[str]) -> list[Score]:
        results: list[Score] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                enc = self.tokenizer(batch, padding=True, truncation=True, return_tensors="pt")
                own = self.model(**enc).logits.softmax(dim=-1)
                probs = torch.zeros(len(batch), len(LABELS))
                for source_col, target_col in enumerate(self.columns):
                    probs[:, target_col] += own[:, source_col]
                results.extend(_scores(probs, self.model_id))
        return results


def load_scorer(settings: ModelSettings) -> Scorer:
    """Load the model that settings name; errors name the model and the cause."""
    name = resolve_model_dir(settings.name)
    path = Path(name)
    try:
        if (path / "voxwatch_model.json").is_file():
            return EncoderHeadScorer(path, settings.batch_size)
        return SequenceClassifierScorer(name, settings.label_map, settings.batch_size)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot load sentiment model {settings.name!r}: {exc}") from exc
