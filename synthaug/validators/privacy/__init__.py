"""Privacy validators.  Importing this package registers them."""

from synthaug.validators.privacy.distance import (
    DistanceToClosestRecord,
    ExactCopies,
    NearestNeighbourDistanceRatio,
)
from synthaug.validators.privacy.image import DataCopying, NearCopies
from synthaug.validators.privacy.inference import AttributeInference
from synthaug.validators.privacy.membership import (
    DensityRatioMembershipInference,
    DistanceMembershipInference,
)
from synthaug.validators.privacy.memorisation import Memorisation
from synthaug.validators.privacy.shadow import ShadowModelMembershipInference
from synthaug.validators.privacy.singling_out import SinglingOut
from synthaug.validators.privacy.text import NearCopiesMiniLM, NgramCopies

__all__ = [
    "AttributeInference",
    "DataCopying",
    "DensityRatioMembershipInference",
    "DistanceMembershipInference",
    "DistanceToClosestRecord",
    "ExactCopies",
    "Memorisation",
    "NearCopies",
    "NearCopiesMiniLM",
    "NearestNeighbourDistanceRatio",
    "NgramCopies",
    "ShadowModelMembershipInference",
    "SinglingOut",
]
