"""Fidelity validators.  Importing this package registers them."""

from synthaug.validators.fidelity.coverage import CategoryCoverage, OutOfRange
from synthaug.validators.fidelity.detection import Detection
from synthaug.validators.fidelity.image import (
    Coverage,
    Density,
    FrechetDistance,
    LabelConsistency,
    Precision,
    Recall,
)
from synthaug.validators.fidelity.pairs import PairTrends
from synthaug.validators.fidelity.precision_recall import AlphaPrecision, BetaRecall
from synthaug.validators.fidelity.shapes import ColumnShapes
from synthaug.validators.fidelity.text import FrechetMiniLM, LabelConsistencyMiniLM, MauveMiniLM
from synthaug.validators.fidelity.text_diversity import DistinctNgrams, LengthDistance, SelfBleu
from synthaug.validators.fidelity.validity import Validity, expectation_suite, gx_view

__all__ = [
    "AlphaPrecision",
    "BetaRecall",
    "CategoryCoverage",
    "ColumnShapes",
    "Coverage",
    "Density",
    "Detection",
    "DistinctNgrams",
    "FrechetDistance",
    "FrechetMiniLM",
    "LabelConsistency",
    "LabelConsistencyMiniLM",
    "LengthDistance",
    "MauveMiniLM",
    "OutOfRange",
    "PairTrends",
    "Precision",
    "Recall",
    "SelfBleu",
    "Validity",
    "expectation_suite",
    "gx_view",
]
