"""``voxwatch serve`` runs the pipeline again and again in one process: the model stays loaded."""

from __future__ import annotations

from pathlib import Path

from flows.score import load_model
from tests.settings_files import write_settings
from voxwatch.settings import load_settings


def test_the_model_loads_once_per_process_and_again_only_when_its_settings_change(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    first = load_model.fn(load_settings(config))
    assert load_model.fn(load_settings(config)) is first  # a second run: nothing loaded again
    changed = load_settings(config)
    changed.model.batch_size = 8
    other = load_model.fn(changed)
    assert other is not first
    assert load_model.fn(load_settings(config)) is not first  # only the latest is kept
