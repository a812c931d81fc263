"""SQLite results store for batch jobs (the embedded default)."""
from .sqlite import SCHEMA_VERSION, ResultsStore, StoreError, default_store_path

__all__ = ["SCHEMA_VERSION", "ResultsStore", "StoreError", "default_store_path"]
