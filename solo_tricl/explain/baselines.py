"""The removal baseline: a Gaussian blur of the input, in model-input space."""

import torch
from torchvision.transforms.functional import gaussian_blur as _blur

KERNEL_SIZE, SIGMA = 21, 5.0


def gaussian_blur(images: torch.Tensor, kernel_size: int = KERNEL_SIZE, sigma: float = SIGMA) -> torch.Tensor:
    """(N, C, H, W) -> the same images blurred (kernel 21, sigma 5 as in the COCOA paper).

    The kernel shrinks to the largest odd size below the image side for small images (the blur
    pads by reflection, which needs the padding to be smaller than the image).
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got {tuple(images.shape)}")
    side = min(images.shape[-2:])
    kernel_size = min(kernel_size, side - 1 if side % 2 == 0 else side - 2)
    if kernel_size < 3:
        return images.mean(dim=(-2, -1), keepdim=True).expand_as(images).clone()
    return _blur(images, kernel_size=[kernel_size, kernel_size], sigma=[sigma, sigma])
