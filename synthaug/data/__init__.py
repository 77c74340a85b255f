"""Data: tabular schemas and encoders, input checks, and offline data set loaders."""

from synthaug.data.schema import ColumnKind, ColumnSchema, TableSchema

__all__ = ["ColumnKind", "ColumnSchema", "TableSchema"]


def __getattr__(name: str) -> object:
    # The loaders pull in files and optional packages; import them on first use only.
    if name in ("load_adult", "load_fashion_mnist", "load_rotten_tomatoes"):
        from synthaug.data import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'synthaug.data' has no attribute {name!r}")
