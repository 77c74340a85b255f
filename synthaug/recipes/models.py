"""The built-in downstream models recipes train, registered on import.

A downstream model is a ``torch.nn.Module`` made by a factory registered in
:data:`synthaug.registry.downstream_models`: ``factory(inputs, **params)``, where ``inputs`` is
what the data's task describes its model inputs with (:class:`TabularInputs` for tables,
:class:`ImageInputs` for images).  Its ``forward`` takes those inputs by name
(``model(**inputs)``; ``forward(x_num, x_cat)`` for tables, ``forward(x)`` for images) and
returns ``(n, n_classes)`` logits.  A user's own factory with that signature can be
passed to :func:`synthaug.recipes.run` as ``model_factory``.

Each task module defines and registers its modality's models (``tabular.mlp`` lives in
:mod:`synthaug.recipes.tasks.tabular`; ``image.cnn``, the reference CNN of
:mod:`synthaug.data.image.classifier`, is registered by :mod:`synthaug.recipes.tasks.image`);
the registry imports this module on its first lookup, and this module imports every task
module, so every built-in model is registered.

Examples
--------
>>> from synthaug import registry
>>> registry.downstream_models.get("tabular.mlp") is TabularMLP
True
"""

from __future__ import annotations

from synthaug.data.image.classifier import ImageCNN, ImageInputs
from synthaug.recipes.tasks import tasks
from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP

__all__ = ["ImageCNN", "ImageInputs", "TabularInputs", "TabularMLP"]

tasks.load_builtins()  # every task module registers its downstream models on import
