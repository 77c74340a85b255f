"""Fidelity validators.  Importing this package registers them."""

from synthaug.validators.fidelity.shapes import ColumnShapes

__all__ = ["ColumnShapes"]
