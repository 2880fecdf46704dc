"""``python -m voxwatch`` is the same as the ``voxwatch`` command."""

from voxwatch.cli.main import run

run()
