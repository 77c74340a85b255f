"""Bias validators.  Importing this package registers them.

* ``bias.group_representation``: each sensitive group's share of rows, real vs synthetic.
* ``bias.outcome_parity``: each sensitive group's outcome rate, real vs synthetic, and whether
  the synthetic data widened or narrowed the gap between groups.
* ``bias.downstream_fairness``: demographic parity and equalised odds differences of a model
  trained on synthetic (or augmented) data vs one trained on real data (needs fairlearn).
"""

from synthaug.validators.bias.downstream import DownstreamFairness
from synthaug.validators.bias.groups import GroupRepresentation, OutcomeParity

__all__ = ["DownstreamFairness", "GroupRepresentation", "OutcomeParity"]
