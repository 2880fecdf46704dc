"""Character n-gram logistic regression: the lexical half of the Chinese route.

Why a second model beside the e5 head: multilingual-e5-small's embedding of a
review carries its topic as much as its feeling, so a head trained on shopping
reviews loses accuracy on a domain it never saw. Chinese sentiment words (好评,
太慢, 难吃, 不会再来) are short character runs that mean the same in any domain,
and a linear model on 1-3 character n-grams reads them directly. Averaging the
two models' positive-vs-negative log odds gained 1.6 points on every shopping
category held out in turn and 1.7 on food-delivery reviews never trained on
(``sentiment/MODEL_CARD.md``, ``python -m sentiment.training.train_chinese_lexical``).

The model is what scikit-learn's ``TfidfVectorizer(analyzer=char_ngrams)`` and a
binary ``LogisticRegression`` compute: each distinct n-gram of the text counts
once, weighted by its idf, the vector is scaled to unit length, and the log odds
are its dot product with the coefficients plus a bias. It is stored as JSON (no
pickle, no scikit-learn needed to score), one ``[idf, coefficient]`` pair per n-gram.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxwatch.errors import ModelError

FORMAT = "char-ngram-logistic"
SIZES = (1, 2, 3)
# A review's feeling is in its opening and closing lines; a 100 KB page must not cost 300,000 n-grams.
MAX_CHARS = 2000
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC (full-width letters and punctuation to their plain forms), lower case, one space
    for each run of white space, cut to its head and tail, and padded with a space each side so
    a text's first and last characters make n-grams of their own."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    if len(text) > MAX_CHARS:
        half = MAX_CHARS // 2
        text = text[:half] + " " + text[-half:]
    return f" {text} "


def char_ngrams(text: str) -> list[str]:
    """The distinct 1-3 character n-grams of ``text`` after :func:`normalise`, in first-seen order."""
    clean = normalise(text)
    seen = {clean[i : i + n]: None for n in SIZES for i in range(len(clean) - n + 1)}
    seen.pop(" ", None)  # every text has it: it says nothing
    return list(seen)


@dataclass(frozen=True)
class CharNgramModel:
    """Positive-vs-negative log odds of a text from its character n-grams."""

    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, coefficient)
    bias: float

    @classmethod
    def load(cls, path: Path) -> CharNgramModel:
        """Read a model written by :meth:`to_json`; a broken file is an error that names it."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {FORMAT!r}")
            weights = {str(g): (float(idf), float(coef)) for g, (idf, coef) in data["weights"].items()}
            return cls(weights=weights, bias=float(data["bias"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"character n-gram model {path}: {exc}") from exc

    def to_json(self) -> str:
        """The file :meth:`load` reads: rounded to six significant digits, sorted for stable diffs."""
        weights = {
            g: [float(f"{idf:.6g}"), float(f"{coef:.6g}")] for g, (idf, coef) in sorted(self.weights.items())
        }
        return (
            json.dumps(
                {"format": FORMAT, "sizes": list(SIZES), "bias": self.bias, "weights": weights},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )

    def log_odds(self, texts: Sequence[str]) -> torch.Tensor:
        """``(len(texts),)`` log odds of positive over negative; a text with no known n-gram gets the bias."""
        out = []
        for text in texts:
            known = [self.weights[g] for g in char_ngrams(text) if g in self.weights]
            norm = math.sqrt(sum(idf * idf for idf, _ in known)) or 1.0
            out.append(self.bias + sum(idf * coef for idf, coef in known) / norm)
        return torch.tensor(out, dtype=torch.float32)


def mix_polarity(probs: torch.Tensor, log_odds: torch.Tensor, weight: float) -> torch.Tensor:
    """``probs`` (negative, neutral, positive rows) with the split between negative and positive
    moved towards ``log_odds``: the two log odds averaged with ``weight`` on the lexical one.

    Neutral keeps its probability: the lexical model was trained on reviews, which have no
    neutral class, so it has nothing to say about it.
    """
    tiny = torch.finfo(probs.dtype).tiny
    negative, neutral, positive = probs.unbind(-1)
    head_odds = torch.log(positive.clamp(min=tiny)) - torch.log(negative.clamp(min=tiny))
    share = torch.sigmoid((1 - weight) * head_odds + weight * log_odds.to(probs.dtype))
    polar = 1 - neutral
    return torch.stack([polar * (1 - share), neutral, polar * share], dim=-1)
