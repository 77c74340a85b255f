"""scikit-learn face of synthaug: generator-backed samplers and the reversible table encoding.

``SyntheticOverSampler`` follows imbalanced-learn (``fit_resample``, no ``transform``), so it
resamples only while an ``imblearn.pipeline.Pipeline`` fits.  ``TabularEncoder`` is a plain
transformer with ``inverse_transform``, usable in any scikit-learn pipeline.
"""

from synthaug.sklearn.encoder import TabularEncoder
from synthaug.sklearn.sampler import SyntheticOverSampler

__all__ = ["SyntheticOverSampler", "TabularEncoder"]
