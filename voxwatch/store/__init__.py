"""The DuckDB store: one class owns connections (``database``), the schema is
ordered migrations (``migrations``), and every other SQL statement lives in
``queries``."""

from voxwatch.settings import Settings
from voxwatch.store.database import Store

__all__ = ["Store", "store_for"]


def store_for(settings: Settings) -> Store:
    """The store that settings point at."""
    return Store(settings.store.path, settings.store.lock_timeout_seconds)
