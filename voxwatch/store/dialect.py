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
  Postgres; DuckDB's writers already take turns on the file);
- where each engine lists its sequences' values (moving a store keeps case numbers going);
- text: Postgres cannot hold the NUL character, which DuckDB stores; a NUL in text
  from the internet means nothing, so it is stored as U+FFFD, the replacement
  character, as undecodable bytes are.

One difference lives with the schema instead: a migration's ``postgres_sql`` adds
indexes only a row store needs (open cases, unanswered ones); DuckDB scans
the columns it needs, pruned by each column's min/max per row group.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

# Each sequence's last value given out (NULL or absent: never used), per engine's catalogue.
SEQUENCE_VALUES = {
    "duckdb": "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE schema_name = current_schema()",
    "postgres": "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()",
}
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


def postgres_text(value: str) -> str:
    """``value`` as Postgres can store it: any NUL replaced by U+FFFD."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


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
