"""``voxwatch score``: JSON Lines in, scores out, bad lines reported, the rest still scored."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.cli_process import voxwatch

GOOD = [
    {"id": 1, "text": "The delivery was late and the driver was rude. I want a refund."},
    {"id": 2, "text": "送餐很快，味道也很好！"},
    {"id": 3, "text": ""},
    {"id": 4, "text": "🙂🙂🙂"},
    {"id": 5, "text": "long " * 20_000},  # 100 KB
    {"id": 6, "text": "mixed 中文 and English текст"},
    {"id": 7, "text": "control\x00chars\x1b[31m here"},
]


def write_input(path: Path) -> None:
    lines = [json.dumps(item, ensure_ascii=False).encode("utf-8") for item in GOOD]
    lines.insert(2, b'{"text": "caf\xe9 au lait"}')  # invalid UTF-8 (Latin-1 byte)
    lines.insert(4, b"{not json")
    lines.insert(6, b'{"body": "no text field"}')
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_every_good_line_is_scored_and_each_bad_line_named(tmp_path: Path) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    result = voxwatch("score", "--input", str(source), "--output", str(target))
    assert result.returncode == 1  # some lines failed
    assert "7 line(s)" in result.stderr and "3 failed" in result.stderr
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    errors = [o for o in out if "error" in o]
    assert [(e["line"], e["error"].split(" (")[0]) for e in errors] == [
        (3, "not valid UTF-8"),
        (5, "not JSON"),
        (7, "no string 'text' field"),
    ]
    scored = [o for o in out if "error" not in o]
    assert [o["id"] for o in scored] == [1, 2, 3, 4, 5, 6, 7]  # input order, input fields kept
    for item in scored:
        assert item["label"] in {"negative", "neutral", "positive"}
        assert set(item["probs"]) == {"negative", "neutral", "positive"}
        assert math.isclose(sum(item["probs"].values()), 1.0, abs_tol=1e-4)
        assert item["model_id"] == "voxwatch/multi-v5"
    assert scored[0]["label"] == "negative" and scored[0]["lang"] == "en"
    assert scored[1]["label"] == "positive" and scored[1]["lang"] == "zh"


def test_stdin_to_stdout() -> None:
    result = voxwatch("score", stdin='{"text": "I love this place, best coffee in town!"}\n')
    assert result.returncode == 0, result.stderr
    (item,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert item["label"] == "positive" and item["text"].startswith("I love")


def test_a_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    result = voxwatch("score", "--input", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2 and "cannot read" in result.stderr and "nope.jsonl" in result.stderr


def test_an_over_long_line_is_an_error_and_never_held_whole(tmp_path: Path) -> None:
    """A 50 MB line is skipped in pieces; the lines around it are scored; memory stays small."""
    import subprocess
    import sys

    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    with source.open("wb") as out:
        out.write(b'{"id": 1, "text": "Great coffee, friendly staff."}\n')
        out.write(b'{"id": 2, "text": "' + b"x" * (50 * 1024 * 1024) + b'"}\n')
        out.write(b'{"id": 3, "text": "The order never arrived."}\n')
    # VmHWM is this process image's own peak: ru_maxrss would carry over the forking pytest
    # worker's peak (Linux keeps it across fork and exec), whatever models that worker loaded.
    script = (
        "import re, sys\n"
        "from voxwatch.cli import app\n"
        "try:\n"
        "    app(sys.argv[1:])\n"
        "except SystemExit as exit:\n"
        "    status = open('/proc/self/status').read()\n"
        "    print(re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
        "    raise\n"
    )
    args = ["score", "--input", str(source), "--output", str(target), "--max-line-bytes", "100000"]
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [o.get("id") for o in out] == [1, None, 3]
    assert out[1]["line"] == 2 and "over the 100000-byte limit" in out[1]["error"]
    peak_kib = int(result.stderr.strip().splitlines()[-1])  # VmHWM, in KiB
    assert peak_kib < 1_500_000, f"peak RSS {peak_kib} KiB: the long line was held"  # model ~1 GB; line 50 MB
