"""Scoring throughput: our batched path vs one call per text, same model, same run.

python bench/score_throughput.py [--n 256]
"""

from __future__ import annotations

import argparse
import random
import time

from sentiment.model import load_scorer
from voxwatch.runtime import prepare_environment
from voxwatch.settings import ModelSettings

WORDS = (
    "the coffee was cold again and the delivery took forever but the barista was kind "
    "refund my order app crashed twice great service terrible support lovely beans"
).split()


def sample_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.choice([8, 20, 60, 100]))) for _ in range(n)]


def rate(fn, texts: list[str]) -> float:
    start = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=256)
    args = parser.parse_args()
    prepare_environment()
    scorer = load_scorer(ModelSettings(batch_size=32))
    texts = sample_texts(args.n)
    scorer.score(texts[:8])  # warm up
    batched = rate(scorer.score, texts)
    one_by_one = rate(lambda ts: [scorer.score([t]) for t in ts], texts)
    print(f"batched:    {batched:8.1f} texts/s")
    print(f"one by one: {one_by_one:8.1f} texts/s")
    print(f"ratio:      {batched / one_by_one:8.2f}x")


if __name__ == "__main__":
    main()
