"""The explained scalars: contrastive corpus similarity (COCOA) and the label-free baseline."""

from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from solo_tricl.errors import BadInput

MODES = ("cosine", "dot")


@torch.no_grad()
def encode_in_batches(
    encoder: Callable, images: torch.Tensor, batch_size: int = 64, desc: Optional[str] = None
) -> torch.Tensor:
    """(N, ...) -> (N, d) representations, in batches, with a progress bar when ``desc`` is set."""
    chunks = range(0, len(images), batch_size)
    if desc:
        chunks = tqdm(chunks, desc=desc, unit="batch")
    return torch.cat([encoder(images[i : i + batch_size]) for i in chunks])


class ContrastiveCorpusSimilarity(nn.Module):
    """m(x) = mean_{c in C} sim(f(x), f(c)) - mean_{v in F} sim(f(x), f(v)).

    With ``mode="cosine"`` (default) this is ``<f(x)/||f(x)||, mu_C - mu_F>``, mu the mean of
    the L2-normalised corpus/foil representations; with ``mode="dot"`` the unnormalised dot
    product ``<f(x), mean f(c) - mean f(v)>``. The direction ``mu_C - mu_F`` is computed once,
    in batches, and kept as a buffer: explaining many inputs never re-encodes the corpus.

    Reference: Lin, Covert and Lee, "Contrastive Corpus Attribution for Explaining
    Representations", ICLR 2023.

    Args:
        encoder: images (N, C, H, W) -> representations (N, d).
        corpus: (n_c, C, H, W) corpus images, or use :meth:`from_representations`.
        foil: (n_f, C, H, W) foil images.
        mode: ``cosine`` or ``dot``.

    Shapes:
        forward: (N, C, H, W) -> (N,), one scalar per input, ready for captum.

    Examples:
        >>> target = ContrastiveCorpusSimilarity(encoder, corpus_images, foil_images)
        >>> attributions = IntegratedGradients(target).attribute(x, baselines=gaussian_blur(x))
    """

    def __init__(
        self,
        encoder: Callable,
        corpus: torch.Tensor,
        foil: torch.Tensor,
        mode: str = "cosine",
        batch_size: int = 64,
        progress: bool = True,
    ):
        _require_non_empty(corpus, "corpus")
        _require_non_empty(foil, "foil")
        corpus_reps = encode_in_batches(encoder, corpus, batch_size, "encoding corpus" if progress else None)
        foil_reps = encode_in_batches(encoder, foil, batch_size, "encoding foil" if progress else None)
        self._init(encoder, corpus_reps, foil_reps, mode)

    @classmethod
    def from_representations(
        cls, encoder: Callable, corpus: torch.Tensor, foil: torch.Tensor, mode: str = "cosine"
    ) -> "ContrastiveCorpusSimilarity":
        """A target from precomputed (n, d) corpus and foil representations (e.g. CLIP texts)."""
        _require_non_empty(corpus, "corpus")
        _require_non_empty(foil, "foil")
        target = cls.__new__(cls)
        target._init(encoder, corpus, foil, mode)
        return target

    def _init(self, encoder, corpus_reps, foil_reps, mode):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.encoder, self.mode = encoder, mode
        if mode == "cosine":
            corpus_reps, foil_reps = F.normalize(corpus_reps, dim=1), F.normalize(foil_reps, dim=1)
        self.register_buffer("direction", (corpus_reps.mean(0) - foil_reps.mean(0)).detach())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        representations = self.encoder(images)
        if self.mode == "cosine":
            representations = F.normalize(representations, dim=1)
        return representations @ self.direction.to(representations.dtype)


class LabelFreeSimilarity(nn.Module):
    """The label-free target: m(x') = cos(f(x'), f(x)), the similarity of a perturbed input to
    the explicand's own representation (Crabbe and van der Schaar, "Label-Free Explainability
    for Unsupervised Models", ICML 2022); COCOA's baseline to beat.

    ``forward(images, reference)`` takes the explicands' (N, d) representations as a second
    argument, so captum can pass them as ``additional_forward_args`` and expand them per step.
    """

    def __init__(self, encoder: Callable):
        super().__init__()
        self.encoder = encoder

    @torch.no_grad()
    def reference(self, explicands: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.encoder(explicands), dim=1)

    def forward(self, images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return (F.normalize(self.encoder(images), dim=1) * reference).sum(dim=1)


def _require_non_empty(x: torch.Tensor, name: str) -> None:
    if x is None or len(x) == 0:
        raise BadInput(f"the {name} is empty: give at least one {name} example")
