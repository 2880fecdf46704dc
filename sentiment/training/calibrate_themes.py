"""Calibrate the similarity threshold for themes by meaning, and say how well it does.

``sentiment/training/theme_examples.jsonl`` holds hand-written mentions in twelve
languages the keyword patterns do not cover (es, fr, de, it, pt, ar, hi, ja, ko,
tr, nl, ru), each labelled with its themes (often none). Every (text, theme) pair
is a yes/no decision; the threshold is the cosine that maximises micro-F1 over
those decisions.

To report a figure that was not tuned on, the languages are split in two folds:
the threshold chosen on one fold is scored on the other, and the report gives
both held-out figures. The shipped threshold is then chosen on all examples and
written into ``sentiment/data/themes.toml`` (``[similarity] threshold``).

    python -m sentiment.training.calibrate_themes            # write the threshold
    python -m sentiment.training.calibrate_themes --dry-run  # only report
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sentiment.theme_match import wheel_matcher
from sentiment.themes import load_theme_book

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "theme_examples.jsonl"
THEMES_FILE = HERE.parent / "data" / "themes.toml"


def read_examples(path: Path = EXAMPLES) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"text": r["text"], "lang": r["lang"], "themes": list(r["themes"])} for r in rows]


def truth_matrix(rows: Sequence[dict[str, Any]], theme_ids: Sequence[str]) -> torch.Tensor:
    """``(rows, themes)`` booleans: the labelled themes of each example."""
    unknown = {t for r in rows for t in r["themes"]} - set(theme_ids)
    if unknown:
        raise ValueError(f"examples name themes the definition lacks: {sorted(unknown)}")
    return torch.tensor([[t in r["themes"] for t in theme_ids] for r in rows])


def scores(similar: torch.Tensor, truth: torch.Tensor, threshold: float) -> dict[str, float]:
    """Micro precision, recall and F1 of tagging every pair at or above ``threshold``."""
    said = similar >= threshold
    hits = int((said & truth).sum())
    precision = hits / max(int(said.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    exact = float((said == truth).all(dim=1).float().mean())
    return {
        "threshold": round(threshold, 3),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "exact": exact,
    }


def best_threshold(similar: torch.Tensor, truth: torch.Tensor) -> float:
    """The cosine (on a 0.005 grid) with the best micro-F1; the lowest of ties."""
    grid = [round(0.005 * i, 3) for i in range(200)]
    return max(grid, key=lambda t: (scores(similar, truth, t)["f1"], -t))


def folds(langs: Sequence[str]) -> tuple[set[str], set[str]]:
    ordered = sorted(set(langs))
    return set(ordered[0::2]), set(ordered[1::2])


def calibrate(rows: Sequence[dict[str, Any]], themes_file: Path | None = None) -> dict[str, Any]:
    book = load_theme_book(themes_file)
    theme_ids = [t.id for t in book.themes]
    truth = truth_matrix(rows, theme_ids)
    similar = wheel_matcher(book).similarities([r["text"] for r in rows])
    langs = [r["lang"] for r in rows]
    report: dict[str, Any] = {"examples": len(rows), "languages": sorted(set(langs)), "held_out": {}}
    for tune, test in (folds(langs), folds(langs)[::-1]):
        tune_rows = torch.tensor([lang in tune for lang in langs])
        chosen = best_threshold(similar[tune_rows], truth[tune_rows])
        report["held_out"][",".join(sorted(test))] = scores(similar[~tune_rows], truth[~tune_rows], chosen)
    threshold = best_threshold(similar, truth)
    report["threshold"] = threshold
    report["all_examples"] = scores(similar, truth, threshold)
    report["per_theme_f1"] = {
        theme: scores(similar[:, [j]], truth[:, [j]], threshold)["f1"] for j, theme in enumerate(theme_ids)
    }
    return report


def write_threshold(threshold: float, path: Path = THEMES_FILE) -> None:
    """Replace the ``threshold = ...`` line of the ``[similarity]`` table, keeping the rest of the file."""
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(
        r"(\[similarity\](?:\n(?!\[).*)*?\nthreshold = )[-+0-9.eE]+", rf"\g<1>{threshold}", text, count=1
    )
    if count != 1:
        raise ValueError(f"{path}: no [similarity] threshold line to update")
    path.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=Path, default=EXAMPLES)
    parser.add_argument("--dry-run", action="store_true", help="report only; leave themes.toml as it is")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = calibrate(read_examples(args.examples))
    if not args.dry_run:
        write_threshold(report["threshold"])
        log.info("wrote threshold %s into %s", report["threshold"], THEMES_FILE)
    log.info("%s", json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
