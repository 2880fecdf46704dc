"""VoxWatch core: settings, store, domain types and the command line."""

__version__ = "0.1.0"
