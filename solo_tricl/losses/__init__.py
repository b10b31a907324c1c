"""Plain-PyTorch losses: no solo-learn, no OpenCLIP.

Two-view losses are called as ``loss(z0, z1)`` with two (B, k) batches of projector outputs and
return a scalar; under an initialized ``torch.distributed`` process group they gather the other
processes' rows (with gradient) as negatives. CLIP losses follow OpenCLIP's ``ClipLoss`` call.
"""

from solo_tricl.lazy import lazy_attributes

# name -> the module that defines it; imported on first use, so that the torch-free modules of
# this package (defaults, _checks) can be imported without torch
_MODULES = {
    "FeatureImportance": "importance",
    "InfoNCELoss": "simclr",
    "KernelClipLoss": "clip",
    "KernelInfoNCELoss": "kernel",
    "KernelMixtureLoss": "kernel_mixture",
    "MatryoshkaClipLoss": "clip",
    "MatryoshkaInfoNCELoss": "matryoshka",
    "NCLClipLoss": "clip",
    "NCLLoss": "ncl",
    "NON_NEGATIVE_MAPS": "nonneg",
    "NonNegative": "nonneg",
    "SpectralTriCLLoss": "spectral_tricl",
    "TriCLClipLoss": "clip",
    "TriCLLoss": "tricl",
    "decorrelation_loss": "decorrelation",
    "info_nce_loss": "simclr",
    "kernel_info_nce_loss": "kernel",
    "matryoshka_info_nce_loss": "matryoshka",
    "spectral_tricl_terms": "spectral_tricl",
    "tricl_terms": "tricl",
}


__getattr__, __dir__ = lazy_attributes(__name__, _MODULES)

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
