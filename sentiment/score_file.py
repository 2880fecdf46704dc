"""Score a JSON Lines stream: how anyone evaluates the model on their own data.

Each input line is an object with a ``text`` field. Each output line is that
object with ``label``, ``probs`` (negative / neutral / positive, summing to 1),
``lang`` and ``model_id`` added, in input order. A line that cannot be scored
(invalid UTF-8, not JSON, no string ``text``) becomes ``{"line": N, "error": ...}``
in the output, is logged, and the rest of the file is still scored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sentiment.lang import detect_language
from sentiment.model import Scorer

log = logging.getLogger(__name__)

__all__ = ["LineError", "ScoreReport", "parse_lines", "score_stream"]

CHUNK = 256  # lines scored together: big enough to batch, small enough to stream


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True)
class ScoreReport:
    scored: int
    failed: int


def parse_line(number: int, raw: bytes) -> dict[str, Any] | LineError:
    """One input line as an object with a string ``text``, or why it is not."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineError(number, f"not valid UTF-8 (byte {exc.start})")
    try:
        item = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return LineError(number, f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(item, dict):
        return LineError(number, "not a JSON object")
    if not isinstance(item.get("text"), str):
        return LineError(number, "no string 'text' field")
    return item


def parse_lines(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Numbered parsed lines; blank lines are skipped."""
    for number, raw in enumerate(stream, start=1):
        raw = raw.rstrip(b"\r\n")
        if raw.strip():
            yield number, parse_line(number, raw)


def _chunks(items: Iterable[tuple[int, dict[str, Any] | LineError]], size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_stream(scorer: Scorer, source: IO[bytes], sink: IO[str]) -> ScoreReport:
    """Score every good line of ``source`` into ``sink``; returns the counts."""
    scored = failed = 0
    for chunk in _chunks(parse_lines(source), CHUNK):
        good = [item for _, item in chunk if not isinstance(item, LineError)]
        langs = [detect_language(item["text"]) for item in good]
        scores = iter(zip(scorer.score([item["text"] for item in good], langs), langs, strict=True))
        for _number, item in chunk:
            if isinstance(item, LineError):
                failed += 1
                log.warning("line %d: %s", item.line, item.message)
                sink.write(json.dumps({"line": item.line, "error": item.message}) + "\n")
                continue
            score, lang = next(scores)
            result = {
                **item,
                "label": score.label,
                "probs": score.probs,
                "lang": lang,
                "model_id": score.model_id,
            }
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            scored += 1
    return ScoreReport(scored, failed)
