"""Attributing a scalar target to pixels with RISE or captum's IntegratedGradients and
GradientShap, one explicand at a time, with the settings in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    import torch

METHODS = ("rise", "ig", "gradshap")


@dataclass
class AttributionSettings:
    """Defaults follow the COCOA paper where it states them (5,000 RISE masks, 50 IG steps,
    50 GradientShap samples with noise 0.2); the RISE grid is 4 for inputs of <= 32 px, else 7."""

    rise_masks: int = 5000
    rise_grid: Optional[int] = None
    ig_steps: int = 50
    gradshap_samples: int = 50
    gradshap_stdev: float = 0.2
    seed: int = 0

    def grid_for(self, images: torch.Tensor) -> int:
        return self.rise_grid or (4 if max(images.shape[-2:]) <= 32 else 7)

    def as_dict(self, images: torch.Tensor) -> dict:
        return {**asdict(self), "rise_grid": self.grid_for(images)}


def attribute(
    method: str,
    forward: Callable,
    images: torch.Tensor,
    baselines: torch.Tensor,
    settings: AttributionSettings = AttributionSettings(),
    references: Optional[torch.Tensor] = None,
    progress: bool = True,
) -> torch.Tensor:
    """(N, C, H, W) attributions of ``forward`` (images -> one scalar per image).

    Args:
        method: ``rise``, ``ig`` or ``gradshap``.
        images, baselines: (N, C, H, W) explicands and their removal baselines.
        references: (N, d) a second argument of ``forward`` per explicand (the label-free
            target's own representation), or None.
    """
    import torch
    from captum.attr import GradientShap, IntegratedGradients
    from tqdm import tqdm

    from solo_tricl.explain.rise import RISE

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    grid = settings.grid_for(images)
    results = []
    label = f"{method} ({'label-free' if references is not None else 'COCOA'})"
    for i in tqdm(range(len(images)), desc=label, unit="image", disable=not progress):
        x, baseline = images[i : i + 1], baselines[i : i + 1]
        extra = () if references is None else (references[i : i + 1],)
        if method == "rise":
            scalar = (
                forward if references is None else (lambda batch, r=extra[0]: forward(batch, r.expand(len(batch), -1)))
            )
            results.append(
                RISE(scalar).attribute(x, baseline, n_masks=settings.rise_masks, grid=grid, seed=settings.seed)
            )
        elif method == "ig":
            results.append(
                IntegratedGradients(forward).attribute(
                    x,
                    baselines=baseline,
                    n_steps=settings.ig_steps,
                    internal_batch_size=settings.ig_steps,
                    additional_forward_args=extra or None,
                )
            )
        else:
            with torch.random.fork_rng():  # captum draws from the global RNG: seed it, then restore it
                torch.manual_seed(settings.seed + i)
                results.append(
                    GradientShap(forward).attribute(
                        x,
                        baselines=baseline,
                        n_samples=settings.gradshap_samples,
                        stdevs=settings.gradshap_stdev,
                        additional_forward_args=extra or None,
                    )
                )
    return torch.cat(results).detach()
