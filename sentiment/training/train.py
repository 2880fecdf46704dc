"""Reproduce every shipped sentiment model with one command.

    python -m sentiment.training.train --data ../shared/data/sentiment

Runs ``train_english`` (MiniLM fine-tuned, its layers shipped in fp16, then
the int8 ONNX check) and ``train_chinese`` (the multilingual-e5 head), each with
its fixed seed, writing into ``sentiment/models/``. About 90 minutes on two CPU
cores.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from sentiment.training import train_chinese, train_english


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with the sentiment jsonl files")
    args = parser.parse_args(argv)
    train_english.main(["--data", str(args.data)])
    train_chinese.main(["--data", str(args.data)])


if __name__ == "__main__":
    main()
