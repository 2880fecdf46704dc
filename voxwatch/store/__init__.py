"""The store: a DuckDB file (``duckdb_store``, the default) or a PostgreSQL server
(``postgres_store``), both behind ``database.Store``; the schema is ordered
``migrations``, every other SQL statement lives in ``queries``, and the few
differences between the two engines in ``dialect``."""

from voxwatch.settings import Settings, StoreSettings
from voxwatch.store.database import Store
from voxwatch.store.duckdb_store import DuckDBStore

__all__ = ["DuckDBStore", "Store", "open_store", "store_for"]


def store_for(settings: Settings) -> Store:
    """The store that settings point at."""
    return open_store(settings.store)


def open_store(config: StoreSettings) -> Store:
    """The Postgres server at ``[store] url``, else the DuckDB file at ``[store] path``."""
    if config.url is None:
        return DuckDBStore(config.path, config.lock_timeout_seconds)
    from voxwatch.store.postgres_store import PostgresStore  # psycopg is loaded only by those who use it

    password = config.password.get_secret_value() if config.password is not None else None
    return PostgresStore(config.url, password, config.lock_timeout_seconds, config.pool_size)
