"""Privacy validators.  Importing this package registers them."""

from synthaug.validators.privacy.distance import DistanceToClosestRecord, ExactCopies

__all__ = ["DistanceToClosestRecord", "ExactCopies"]
