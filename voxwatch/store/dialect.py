"""Where PostgreSQL and DuckDB differ, and nothing else.

The queries are written in the SQL both engines accept (``x = ANY(?)``,
``percentile_cont``, ``extract(epoch FROM ...)``, ``generate_series`` in FROM,
``ON CONFLICT``). What is left is small and lives here:

- placeholders: the queries write ``?``; psycopg wants ``%s`` (and a literal ``%``
  doubled);
- type names in the shipped migrations: PostgreSQL has no ``DOUBLE`` or ``BLOB``
  (DuckDB reads ``DOUBLE PRECISION`` and ``BYTEA`` as the same types, but a
  shipped migration is never edited, so it is translated on the way to Postgres);
- how two processes keep from applying one migration twice (an advisory lock on
  Postgres; DuckDB's writers already take turns on the file).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

# The key of the advisory lock held while a migration applies: any fixed number, VoxWatch's own.
MIGRATION_LOCK = 0x566F78  # "Vox"

_PG_TYPES = (
    (re.compile(r"\bDOUBLE\b(?!\s+PRECISION)", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
)
# A quoted literal or identifier, a comment, a placeholder, or a percent sign.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")


def schema_sql(engine: Literal["duckdb", "postgres"], sql: str) -> str:
    """A migration's statements as ``engine`` reads them."""
    if engine == "duckdb":
        return sql
    for pattern, spelling in _PG_TYPES:
        sql = pattern.sub(spelling, sql)
    return sql


@lru_cache(maxsize=1024)
def postgres_placeholders(sql: str) -> str:
    """``sql`` with each ``?`` outside quotes and comments as ``%s``, and every ``%`` as ``%%``.

    psycopg reads ``%`` everywhere in a statement that has parameters, quotes
    included, so a literal ``%`` (``LIKE 'a%'``) is doubled wherever it is.
    """

    def _swap(match: re.Match[str]) -> str:
        token = match[0]
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _TOKENS.sub(_swap, sql)
