"""Plain-PyTorch losses: no solo-learn, no OpenCLIP.

Two-view losses are called as ``loss(z0, z1)`` with two (B, k) batches of projector outputs and
return a scalar; under an initialized ``torch.distributed`` process group they gather the other
processes' rows (with gradient) as negatives. CLIP losses follow OpenCLIP's ``ClipLoss`` call.
"""

from solo_tricl.losses.clip import KernelClipLoss, MatryoshkaClipLoss, NCLClipLoss, TriCLClipLoss
from solo_tricl.losses.decorrelation import decorrelation_loss
from solo_tricl.losses.importance import FeatureImportance
from solo_tricl.losses.kernel import KernelInfoNCELoss, kernel_info_nce_loss
from solo_tricl.losses.kernel_mixture import KernelMixtureLoss
from solo_tricl.losses.matryoshka import MatryoshkaInfoNCELoss, matryoshka_info_nce_loss
from solo_tricl.losses.ncl import NCLLoss
from solo_tricl.losses.nonneg import NON_NEGATIVE_MAPS, NonNegative
from solo_tricl.losses.simclr import InfoNCELoss, info_nce_loss
from solo_tricl.losses.spectral_tricl import SpectralTriCLLoss, spectral_tricl_terms
from solo_tricl.losses.tricl import TriCLLoss, tricl_terms

__all__ = [
    "FeatureImportance",
    "InfoNCELoss",
    "KernelClipLoss",
    "KernelInfoNCELoss",
    "KernelMixtureLoss",
    "MatryoshkaClipLoss",
    "MatryoshkaInfoNCELoss",
    "NCLClipLoss",
    "NCLLoss",
    "NON_NEGATIVE_MAPS",
    "NonNegative",
    "SpectralTriCLLoss",
    "TriCLClipLoss",
    "TriCLLoss",
    "decorrelation_loss",
    "info_nce_loss",
    "kernel_info_nce_loss",
    "matryoshka_info_nce_loss",
    "spectral_tricl_terms",
    "tricl_terms",
]
