"""Small settings files for tests: one team of one responder, and the sources a test names."""

from __future__ import annotations

import json
from pathlib import Path


def source(name: str, kind: str, url: str, **extra: object) -> str:
    """One ``[[sources]]`` table; extra keys are written as TOML values."""
    lines = ["[[sources]]", f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"']
    for key, value in extra.items():
        text = str(value).lower() if isinstance(value, bool) else json.dumps(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def write_settings(tmp_path: Path, *sources: str, brand: str = "Acme") -> Path:
    path = tmp_path / "voxwatch.toml"
    path.write_text(
        f'[brand]\nname = "{brand}"\n\n'
        + "\n".join(sources)
        + '\n[[responders]]\nname = "amy"\ndisplay_name = "Amy"\nteam = "care"\n\n'
        + '[routing]\ndefault_team = "care"\n',
        encoding="utf-8",
    )
    return path
