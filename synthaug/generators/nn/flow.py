"""Flow matching: the noise schedule, the training target and few-step samplers.

Kept apart from the network (:mod:`.dit`) and the training loop (:mod:`.loop`), as diffusers
keeps its schedulers apart from its models, so another network can reuse them unchanged.

The path is rectified flow's straight line from data ``x0`` (``t = 0``) to Gaussian noise
(``t = 1``): ``x_t = (1 - t) x0 + t eps``, and the network learns the velocity
``v = eps - x0`` (Lipman et al. 2023, Liu et al. 2023).  Straight paths are why a handful of
Euler or Heun steps already give clean images.  Training times are drawn from a logit-normal
(Esser et al. 2024), which spends the steps where the velocity is hardest to predict, mid-way.
Sampling integrates from ``t = 1`` to ``0`` on a grid that may be shifted towards high noise,
with classifier-free guidance (Ho & Salimans 2022): the network also learns the unconditional
velocity (the class replaced by a null class), and sampling extrapolates from it towards the
conditional one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from synthaug.exceptions import InvalidParameterError

__all__ = ["SAMPLERS", "flow_target", "guided_velocity", "integrate_flow", "sample_times",
           "time_grid"]

#: samplers :func:`integrate_flow` knows: first order, and Heun's second order (two network
#: calls per step but the last)
SAMPLERS = ("euler", "heun")

#: a velocity field: ``(x_t, t) -> v``, ``t`` of shape ``(B,)``
Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def sample_times(n: int, device: torch.device, generator: torch.Generator) -> torch.Tensor:
    """``n`` training times in ``(0, 1)``, logit-normal (``sigmoid`` of a standard normal).

    Examples
    --------
    >>> import torch
    >>> t = sample_times(1000, torch.device("cpu"), torch.Generator().manual_seed(0))
    >>> bool((t > 0).all() and (t < 1).all()), round(float(t.mean()), 1)
    (True, 0.5)
    """
    return torch.sigmoid(torch.randn(n, device=device, generator=generator))


def flow_target(
    x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The noisy input ``x_t`` at times ``t`` (one per image) and the velocity to predict.

    Examples
    --------
    >>> import torch
    >>> x0 = torch.zeros(2, 1, 4, 4)
    >>> xt, v = flow_target(x0, torch.tensor([0.0, 1.0]), torch.Generator().manual_seed(0))
    >>> bool(torch.equal(xt[0], x0[0])), bool(torch.equal(xt[1], v[1]))
    (True, True)
    """
    noise = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    tt = t.view(-1, *([1] * (x0.ndim - 1))).to(x0.dtype)
    return (1.0 - tt) * x0 + tt * noise, noise - x0


def time_grid(steps: int, shift: float, device: torch.device) -> torch.Tensor:
    """``steps + 1`` times from 1 down to 0.  ``shift > 1`` moves them towards 1 (noise):
    ``t' = shift t / (1 + (shift - 1) t)``, Esser et al.'s resolution shift, which few-step
    sampling of larger images wants.

    Examples
    --------
    >>> import torch
    >>> time_grid(4, 1.0, torch.device("cpu")).tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if steps < 1:
        raise InvalidParameterError(f"sampling steps must be >= 1, got {steps}.")
    t = torch.linspace(1.0, 0.0, steps + 1, device=device)
    return shift * t / (1.0 + (shift - 1.0) * t)


def guided_velocity(
    model: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    labels: torch.Tensor,
    null_label: int,
    guidance: float,
) -> Velocity:
    """The classifier-free-guided velocity ``v_u + guidance * (v_c - v_u)`` of ``model(x, t,
    labels)``.  ``guidance = 1`` is the plain conditional velocity (one call, no guidance);
    otherwise the conditional and unconditional calls go through the network as one batch.

    Examples
    --------
    >>> import torch
    >>> model = lambda x, t, y: (y == 3).float().view(-1, 1) * torch.ones_like(x)
    >>> v = guided_velocity(model, torch.tensor([3]), null_label=9, guidance=2.0)
    >>> v(torch.zeros(1, 2), torch.ones(1)).tolist()
    [[2.0, 2.0]]
    """
    if guidance == 1.0:
        return lambda x, t: model(x, t, labels)
    null = torch.full_like(labels, null_label)
    both = torch.cat([labels, null])

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        cond, uncond = model(torch.cat([x, x]), torch.cat([t, t]), both).chunk(2)
        return uncond + guidance * (cond - uncond)

    return velocity


def integrate_flow(
    velocity: Velocity, noise: torch.Tensor, *, steps: int, sampler: str = "euler",
    shift: float = 1.0,
) -> torch.Tensor:
    """Integrate ``dx/dt = velocity(x, t)`` from ``noise`` at ``t = 1`` to ``t = 0``.

    Heun's method averages the velocities at both ends of each step (the last step, which
    ends at ``t = 0``, is a plain Euler step, as in Karras et al. 2022), so ``steps`` Heun
    steps cost ``2 * steps - 1`` network calls.

    Examples
    --------
    >>> import torch
    >>> x1 = torch.ones(3, 2)
    >>> x0 = integrate_flow(lambda x, t: torch.ones_like(x), x1, steps=4)
    >>> torch.allclose(x0, torch.zeros(3, 2))
    True
    """
    if sampler not in SAMPLERS:
        raise InvalidParameterError(f"sampler must be one of {SAMPLERS}, got {sampler!r}.")
    # the grid is made on the host: a few floats, and no device sync to read them
    times = time_grid(steps, shift, torch.device("cpu")).tolist()
    x = noise
    ones = torch.ones(noise.shape[0], device=noise.device, dtype=noise.dtype)
    for i in range(steps):
        t, t_next = times[i], times[i + 1]
        v = velocity(x, ones * t)
        x_next = x + (t_next - t) * v
        if sampler == "heun" and t_next > 0.0:
            v_next = velocity(x_next, ones * t_next)
            x_next = x + (t_next - t) * 0.5 * (v + v_next)
        x = x_next
    return x
