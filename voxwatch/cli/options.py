"""What every command shares: where the settings file is, and who is acting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from voxwatch.settings import CONFIG_ENV

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=f"Settings TOML file (default: ${CONFIG_ENV} or ./voxwatch.toml)."),
]
ActorOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who is acting (a name from settings), proven by $VOXWATCH_TOKEN or their password at a prompt.",
    ),
]


def config_path(config: Path | None) -> Path:
    """The settings file: ``--config``, else ``$VOXWATCH_CONFIG``, else ./voxwatch.toml."""
    return config or Path(os.environ.get(CONFIG_ENV) or "voxwatch.toml")
