"""The ``voxwatch`` command line: an entry point, the top layer.

``main`` holds the pipeline, demo, dashboard and admin commands; ``care`` the care
team's commands (cases, authors, templates, route, lint); ``replay`` runs a parser
on a saved response; ``output`` turns results into JSON. Commands only parse
arguments, call a stage or flow, and print: the rules live below.
"""

from voxwatch.cli.main import app, run

__all__ = ["app", "run"]
