"""Reproduce every shipped sentiment model with one command.

    python -m sentiment.training.train --data ../shared/data/sentiment

Runs ``train_english`` (MiniLM fine-tuned, its layers shipped in fp16, then
the int8 ONNX check), ``train_chinese`` (the multilingual-e5 head) and
``train_multilingual`` (multilingual-e5-small fine-tuned whole, into ``--work``)
followed by ``ship_multilingual`` (its small files into ``e5-multi-v1``, checked
through the scorer, and the routes chosen by the held-out figures), then
``compare_cjk_routes`` (the CJK routes in torch, ``multi-v4``) and
``train_chinese_lexical`` (the Chinese character n-grams, ``multi-v5``), each with
its fixed seed, writing into ``sentiment/models/``. About 3.5 hours on two CPU cores.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from sentiment.training import (
    compare_cjk_routes,
    ship_multilingual,
    train_chinese,
    train_chinese_lexical,
    train_english,
    train_multilingual,
)

WORK = Path(__file__).resolve().parents[2] / "build" / "multi-v1"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    parser.add_argument("--work", type=Path, default=WORK, help="where the multilingual run is written")
    args = parser.parse_args(argv)
    train_english.main(["--data", str(args.data)])
    train_chinese.main(["--data", str(args.data)])
    train_multilingual.main(["--data", str(args.data), "--out", str(args.work)])
    ship_multilingual.main(["--run", str(args.work), "--data", str(args.data)])
    compare_cjk_routes.main(["--data", str(args.data)])
    train_chinese_lexical.main(["--data", str(args.data), "--loco"])


if __name__ == "__main__":
    main()
