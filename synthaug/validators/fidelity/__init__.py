"""Fidelity validators.  Importing this package registers them."""

from synthaug.validators.fidelity.detection import Detection
from synthaug.validators.fidelity.pairs import PairTrends
from synthaug.validators.fidelity.shapes import ColumnShapes

__all__ = ["ColumnShapes", "Detection", "PairTrends"]
