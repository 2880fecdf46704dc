"""Score a JSON Lines stream: how anyone evaluates the model on their own data.

Each input line is an object with a ``text`` field. Each output line is that
object with ``label``, ``probs`` (negative / neutral / positive, summing to 1),
``lang`` and ``model_id`` added, in input order. A line that cannot be scored
(invalid UTF-8, not JSON, no string ``text``, longer than ``max_line_bytes``)
becomes ``{"line": N, "error": ...}`` in the output, is logged, and the rest of
the file is still scored.

Input is streamed: a line is read at most ``max_line_bytes`` at a time (the
rest of an over-long line is skipped without being kept), and lines are scored
in chunks bounded in count and bytes, so memory stays bounded whatever the input.
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
CHUNK_BYTES = 8 * 1024 * 1024  # ... and at most this much text held at once
MAX_LINE_BYTES = 1024 * 1024  # a longer line is reported, not read
READ_SIZE = 64 * 1024


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


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    """Read and drop what is left of the current line; return how many bytes that was."""
    skipped = 0
    while True:
        piece = stream.readline(READ_SIZE)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def read_lines(
    stream: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | LineError]]:
    """Numbered raw lines, never holding more than ``max_line_bytes`` of one; longer ones are errors."""
    number = 0
    while True:
        raw = stream.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            size = len(raw) + _skip_rest_of_line(stream)
            yield number, LineError(number, f"line is {size} bytes, over the {max_line_bytes}-byte limit")
            continue
        yield number, raw.rstrip(b"\r\n")


def parse_lines(
    stream: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Numbered parsed lines; blank lines are skipped."""
    for number, raw in read_lines(stream, max_line_bytes):
        if isinstance(raw, LineError):
            yield number, raw
        elif raw.strip():
            yield number, parse_line(number, raw)


def _chunks(items: Iterable[tuple[int, dict[str, Any] | LineError]]) -> Iterator[list]:
    """Groups of lines bounded by count (``CHUNK``) and by text held (``CHUNK_BYTES``)."""
    chunk: list = []
    held = 0
    for item in items:
        chunk.append(item)
        held += len(item[1]["text"]) if isinstance(item[1], dict) else 0
        if len(chunk) == CHUNK or held >= CHUNK_BYTES:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def score_stream(
    scorer: Scorer, source: IO[bytes], sink: IO[str], max_line_bytes: int = MAX_LINE_BYTES
) -> ScoreReport:
    """Score every good line of ``source`` into ``sink``; returns the counts."""
    scored = failed = 0
    for chunk in _chunks(parse_lines(source, max_line_bytes)):
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
