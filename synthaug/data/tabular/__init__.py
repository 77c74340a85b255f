"""Everything that knows a table: the tabular modality, validator inputs, report figures.

Importing this package registers :class:`TabularModality` as ``registry.modalities["tabular"]``.
"""

from synthaug.data.modality import register_modality
from synthaug.data.tabular.modality import (
    TABLE_SUFFIXES,
    TabularModality,
    join_labels,
    label_column_name,
)

__all__ = ["TABLE_SUFFIXES", "TabularModality", "join_labels", "label_column_name"]

register_modality(TabularModality())
