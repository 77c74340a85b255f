"""The reversible tabular encoding, shared by ``sklearn.TabularEncoder``, the GAN and the VAE.

:class:`TableEncoder` (:mod:`.table`) encodes a table or its schema matrix into dense floats
and back, with the differences between its users as options; :mod:`.columns` holds the
per-column pieces (standard scaling, quantile grids, Gaussian mixtures, the layout of a
discrete column) that the copula and the transformer's tokens may use on their own;
:mod:`.layout` the spans; :mod:`.torch` the decoder that runs on a generator's device;
:mod:`.state` the readers of saved states, old formats included.
"""

from synthaug.data.encoding.columns import QUANTILE_EPS, DiscreteLayout, discrete_layout
from synthaug.data.encoding.layout import Span, SpanKind, SpanLayout
from synthaug.data.encoding.state import STATE_FORMAT
from synthaug.data.encoding.table import TableEncoder
from synthaug.data.encoding.torch import DeviceDecoder

__all__ = [
    "QUANTILE_EPS",
    "STATE_FORMAT",
    "DeviceDecoder",
    "DiscreteLayout",
    "Span",
    "SpanKind",
    "SpanLayout",
    "TableEncoder",
    "discrete_layout",
]
