"""Small helpers shared by the query modules: rows as dicts, and SET clauses from allowed columns."""

from __future__ import annotations

from typing import Any


def dict_rows(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def set_clause(changes: dict[str, Any], allowed: frozenset[str]) -> str:
    unknown = set(changes) - allowed
    if unknown:  # column names come from our code, never from input; guard anyway
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return ", ".join(f"{column} = ?" for column in changes)
