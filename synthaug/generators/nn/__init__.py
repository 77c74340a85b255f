"""Shared torch building blocks and the device-resident training loop of synthaug's generators.

Three rules shape everything here:

* **Local randomness only.**  Modules are built on the ``meta`` device and initialised with an
  explicit :class:`torch.Generator` (:func:`build_module`), dropout and Gumbel noise take a
  generator too, so a fit never reads or advances torch's global RNG and ``random_state`` alone
  decides the result.
* **No host sync per step.**  :func:`run_epochs` adds each step's losses into device tensors and
  copies them to the host once per epoch (the logging cadence), where the progress bar, early
  stopping and the divergence check read them.  Batch indices and noise are drawn on the
  device.
* **Plain tensors in, plain tensors out.**  Blocks are small ``nn.Module`` classes whose
  ``state_dict`` is all there is to save (as safetensors).

The pieces live in small modules so a new family reuses what it needs: :mod:`.init`
(construction and initialisation), :mod:`.blocks` (MLP, residual block, seeded dropout),
:mod:`.transformer` (attention and the transformer block with its key/value cache),
:mod:`.sampling` (Gumbel-softmax and categorical draws) and :mod:`.loop` (batches, the epoch
loop, its history and the divergence check, which raises
:class:`~synthaug.exceptions.TrainingDivergedError`).  For images: :mod:`.conv` (spectral
norm, adaptive group norm, residual up/down blocks, the encoder/decoder stacks and their
canvas), :mod:`.dit` (the diffusion transformer), :mod:`.flow` (the flow-matching schedule and
samplers, apart from any network), :mod:`.diffaug` (differentiable augmentation) and
:mod:`.ema` (weight averages).
"""

from synthaug.generators.nn.blocks import MLP, ResidualBlock, SeededDropout, set_generator
from synthaug.generators.nn.conv import (
    AdaptiveGroupNorm,
    Canvas,
    ConvDecoder,
    ConvEncoder,
    DownBlock,
    ProjectionCritic,
    SNConv2d,
    SNLinear,
    UpBlock,
    canvas_for,
    patch_canvas,
)
from synthaug.generators.nn.diffaug import diff_augment
from synthaug.generators.nn.dit import DiT, DiTBlock
from synthaug.generators.nn.ema import ema_decay, ema_update_
from synthaug.generators.nn.flow import (
    flow_target,
    guided_velocity,
    integrate_flow,
    sample_times,
)
from synthaug.generators.nn.init import build_module, init_parameters_, maybe_compile
from synthaug.generators.nn.loop import (
    IMPROVEMENT_TOLERANCE,
    EpochBatcher,
    TrainingHistory,
    autocast,
    iter_slices,
    run_epochs,
)
from synthaug.generators.nn.sampling import gumbel_softmax, sample_categorical
from synthaug.generators.nn.transformer import KVCache, TransformerBlock, attention

__all__ = [
    "IMPROVEMENT_TOLERANCE",
    "MLP",
    "AdaptiveGroupNorm",
    "Canvas",
    "ConvDecoder",
    "ConvEncoder",
    "DiT",
    "DiTBlock",
    "DownBlock",
    "EpochBatcher",
    "KVCache",
    "ProjectionCritic",
    "ResidualBlock",
    "SNConv2d",
    "SNLinear",
    "SeededDropout",
    "TrainingHistory",
    "TransformerBlock",
    "UpBlock",
    "attention",
    "autocast",
    "build_module",
    "canvas_for",
    "diff_augment",
    "ema_decay",
    "ema_update_",
    "flow_target",
    "guided_velocity",
    "gumbel_softmax",
    "init_parameters_",
    "integrate_flow",
    "iter_slices",
    "maybe_compile",
    "patch_canvas",
    "run_epochs",
    "sample_categorical",
    "sample_times",
    "set_generator",
]
