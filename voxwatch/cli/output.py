"""How the CLI prints results as JSON: dates as ISO strings, dataclasses as objects."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any


def as_json_ready(value: Any) -> Any:
    """Dates and datetimes as ISO strings, dataclasses as dicts, recursively."""
    if isinstance(value, dict):
        return {k: as_json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_ready(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return as_json_ready(asdict(value))
    return value


def print_json(value: Any) -> None:
    """One indented JSON document on stdout, non-ASCII text kept as it is."""
    print(json.dumps(as_json_ready(value), ensure_ascii=False, indent=2))
