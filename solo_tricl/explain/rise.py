"""RISE (Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for Explanation of Black-box
Models", BMVC 2018), batched, with captum's ``attribute(inputs, ...)`` shape."""

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from tqdm import tqdm

from solo_tricl.errors import BadInput
from solo_tricl.explain.baselines import gaussian_blur


def generate_masks(
    n_masks: int, size, grid: int = 7, p_keep: float = 0.5, generator: Optional[torch.Generator] = None
) -> torch.Tensor:
    """(n_masks, 1, H, W) soft masks: a random ``grid`` x ``grid`` binary grid (keep-probability
    ``p_keep``), upsampled bilinearly to ((grid + 1) * cell) and randomly shifted by up to one
    cell, then cropped to (H, W)."""
    if n_masks < 1 or grid < 1 or not 0 < p_keep <= 1:
        raise BadInput(f"need n_masks >= 1, grid >= 1 and p_keep in (0, 1]; got {n_masks}, {grid}, {p_keep}")
    height, width = size
    cell_h, cell_w = math.ceil(height / grid), math.ceil(width / grid)
    up_h, up_w = (grid + 1) * cell_h, (grid + 1) * cell_w
    binary = (torch.rand(n_masks, 1, grid, grid, generator=generator) < p_keep).float()
    upsampled = F.interpolate(binary, size=(up_h, up_w), mode="bilinear", align_corners=False)
    shift_y = torch.randint(0, cell_h, (n_masks,), generator=generator)
    shift_x = torch.randint(0, cell_w, (n_masks,), generator=generator)
    rows = shift_y[:, None] + torch.arange(height)[None, :]  # (n, H)
    cols = shift_x[:, None] + torch.arange(width)[None, :]  # (n, W)
    index = torch.arange(n_masks)[:, None, None]
    return upsampled[index, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


class RISE:
    """Saliency = sum_i m(x * M_i + b * (1 - M_i)) M_i / (N p), over N random masks.

    Args:
        forward_func: images (B, C, H, W) -> scores (B,), e.g. a
            :class:`~solo_tricl.explain.target.ContrastiveCorpusSimilarity`; or (B, T) scores of
            T targets, which then share every masked forward pass.

    ``attribute`` evaluates the masked images in batches of ``batch_size`` and returns
    attributions of the inputs' shape (N, C, H, W), the saliency repeated over channels, like
    captum; for T targets, (N, T, C, H, W). Defaults follow the COCOA paper: 5000 masks on a
    7 x 7 grid (use ``grid=4`` for 32 px images), keep-probability 0.5, blurred baselines.
    """

    def __init__(self, forward_func: Callable):
        self.forward_func = forward_func

    @torch.no_grad()
    def attribute(
        self,
        inputs: torch.Tensor,
        baselines: Optional[torch.Tensor] = None,
        n_masks: int = 5000,
        grid: int = 7,
        p_keep: float = 0.5,
        batch_size: int = 500,
        seed: int = 0,
        masks: Optional[torch.Tensor] = None,
        progress: bool = False,
    ) -> torch.Tensor:
        if inputs.ndim != 4:
            raise ValueError(f"inputs must be (N, C, H, W), got {tuple(inputs.shape)}")
        if baselines is None:
            baselines = gaussian_blur(inputs)
        baselines = baselines.expand_as(inputs)
        if masks is None:
            generator = torch.Generator().manual_seed(seed)
            masks = generate_masks(n_masks, inputs.shape[-2:], grid, p_keep, generator)
        masks = masks.to(device=inputs.device, dtype=inputs.dtype)
        saliency, single = None, True
        batches = range(0, len(masks), batch_size)
        for n, (image, baseline) in enumerate(zip(inputs, baselines)):
            for start in tqdm(batches, desc=f"RISE {n + 1}/{len(inputs)}", unit="batch", disable=not progress):
                batch = masks[start : start + batch_size]
                scores = self.forward_func(image * batch + baseline * (1 - batch)).to(inputs.dtype)
                single = scores.ndim == 1
                scores = scores.reshape(len(batch), -1, 1, 1)  # (B, T, 1, 1)
                if saliency is None:
                    saliency = inputs.new_zeros(len(inputs), scores.shape[1], *inputs.shape[-2:])
                saliency[n] += (scores * batch).sum(dim=0)
        saliency /= len(masks) * p_keep
        if single:
            return saliency.expand_as(inputs).clone()
        return saliency.unsqueeze(2).expand(-1, -1, inputs.shape[1], -1, -1).clone()
