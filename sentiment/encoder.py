"""Sentence encoder: a transformer turned into one fixed-size vector per text.

Training (``sentiment/train_head.py``) and inference (``sentiment/model.py``) both go
through this module, so the vectors a head was trained on are exactly the vectors it
scores at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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


class MeanPoolEncoder:
    """A transformer encoder with attention-masked mean pooling and L2 normalising.

    This is how sentence-transformers' all-MiniLM-L6-v2 produces its embeddings;
    it is reproduced with plain ``transformers`` so the same code can load any
    local directory or hub id that ``AutoModel`` understands.
    """

    def __init__(self, model_dir: str | Path, max_tokens: int = 128) -> None:
        self.model_dir = str(model_dir)
        self.max_tokens = max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self.model = AutoModel.from_pretrained(self.model_dir)
        self.model.eval()

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
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
        ids = self._token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = torch.empty(len(ids), self.dimension)
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch_idx = order[start : start + batch_size]
                width = max(len(ids[i]) for i in batch_idx)
                input_ids = torch.full((len(batch_idx), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch_idx), width), dtype=torch.long)
                for row, i in enumerate(batch_idx):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                    mask[row, : len(ids[i])] = 1
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
                pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1)
                out[batch_idx] = torch.nn.functional.normalize(pooled, dim=-1)
        return out
