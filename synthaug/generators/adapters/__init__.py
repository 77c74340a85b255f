"""Adapters to other libraries' generators, registered under their own prefix (``sdv.*``).

They are always listed, so ``get_generator("sdv.ctgan")`` works everywhere; the library itself
is imported at ``fit`` time, and a missing one raises
:class:`~synthaug.exceptions.MissingDependencyError` naming the extra to install.
"""

from synthaug.generators.adapters.sdv import SDVCTGAN, SDVTVAE, SDVGaussianCopula

__all__ = ["SDVCTGAN", "SDVTVAE", "SDVGaussianCopula"]
