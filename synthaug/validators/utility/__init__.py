"""Utility validators: do models trained on the synthetic data work on real data?

Importing this package registers them.
"""

from synthaug.validators.utility.image import ClassificationAccuracyScore

__all__ = ["ClassificationAccuracyScore"]
