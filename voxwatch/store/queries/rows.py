"""Small helpers shared by the query modules: rows as dicts, SET clauses, multi-row inserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def dict_rows(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def set_clause(changes: dict[str, Any], allowed: frozenset[str]) -> str:
    unknown = set(changes) - allowed
    if unknown:  # column names come from our code, never from input; guard anyway
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return ", ".join(f"{column} = ?" for column in changes)


INSERT_CHUNK = 200  # rows per statement: measured fastest on DuckDB (7x one statement per row)


def insert_many(
    conn: Any, head: str, rows: Sequence[Sequence[Any]], values: str, tail: str = ""
) -> list[tuple[Any, ...]]:
    """``head VALUES values, values, ... tail`` for ``INSERT_CHUNK`` rows at a time; rows ``tail`` returns.

    ``values`` is one row's tuple of placeholders, e.g. ``"(?, ?, nextval('s'))"``.
    One statement per chunk instead of one per row: a routing pass of 2,000
    mentions wrote about 8,000 single-row statements, most of its time. Multi-row
    VALUES is plain SQL, so every engine the store runs on reads it.
    """
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        part = rows[start : start + INSERT_CHUNK]
        sql = f"{head} VALUES {', '.join([values] * len(part))} {tail}".rstrip()
        cursor = conn.execute(sql, [value for row in part for value in row])
        if tail and "RETURNING" in tail.upper():
            returned.extend(cursor.fetchall())
    return returned
