"""Prefect flows: collect -> score -> route, and the sources they collect from."""
