"""``voxwatch demo``: serve the sample week and point a settings file at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from voxwatch.demo.server import DemoServer


def write_demo_settings(data_dir: Path, server_url: str) -> Path:
    """Write the demo's settings file, pointing its sources at ``server_url``."""
    template = resources.files("voxwatch.demo").joinpath("voxwatch.toml").read_text(encoding="utf-8")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "voxwatch.toml"
    path.write_text(template.replace("{server}", server_url), encoding="utf-8")
    return path


@contextmanager
def demo_sources(data_dir: Path, port: int = 0) -> Iterator[Path]:
    """Serve the sample sources for as long as the block runs; yield the settings path."""
    with DemoServer(port) as server:
        yield write_demo_settings(data_dir, server.base_url)
