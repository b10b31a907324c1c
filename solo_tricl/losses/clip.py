"""Image-text (CLIP) forms of triCL, NCL and kernel InfoNCE, with OpenCLIP's call contract.

Each loss is called like OpenCLIP's ``ClipLoss``:
``loss(image_features, text_features, logit_scale, logit_bias=None, output_dict=False)``, takes
the same constructor flags (``local_loss``, ``gather_with_grad``, ``rank``, ``world_size``) and
returns ``{"contrastive_loss": ...}`` (plus extra terms) with ``output_dict=True``, so it drops
into ``open_clip_train`` unchanged.
"""

import numbers
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from solo_tricl.losses._checks import (
    require_bool,
    require_choice,
    require_float_tensor,
    require_nesting,
    require_positive,
    require_positive_int,
)
from solo_tricl.losses.decorrelation import decorrelation_loss, decorrelation_weight_or_default
from solo_tricl.losses.defaults import (
    DECORRELATION,
    EPS,
    GAMMA,
    MRL_REDUCTION,
    MRL_REDUCTIONS,
    MRL_SMALLEST_PREFIX,
)
from solo_tricl.losses.distributed import (
    gather_with_grad,
    gather_without_grad,
    rank_and_world_size,
)
from solo_tricl.losses.importance import FeatureImportance
from solo_tricl.losses.kernel import kernel_logits, require_gamma, squared_distances
from solo_tricl.losses.matryoshka import default_nesting, reduce_prefix_terms
from solo_tricl.losses.nonneg import NonNegative
from solo_tricl.losses.tricl import (
    require_importance_for,
    require_importance_module,
)
from solo_tricl.losses.views import contrastive_cross_entropy, nan_unless_finite, unit_rows

Score = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LossOutput = Union[torch.Tensor, Dict[str, torch.Tensor]]


def gather_pairs(
    image: torch.Tensor, text: torch.Tensor, local_loss: bool = False, gather_grad: bool = False
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Every process's (n, d) image and text rows, (W * n, d) each, as OpenCLIP gathers them.

    With ``gather_grad`` (``--gather-with-grad``) every row carries gradient. Otherwise only
    this process's rows do, and not even those with ``local_loss`` (OpenCLIP's behaviour).
    """
    if gather_grad:
        return gather_with_grad(image), gather_with_grad(text)
    keep = not local_loss
    return (
        gather_without_grad(image, keep_local_grad=keep),
        gather_without_grad(text, keep_local_grad=keep),
    )


def symmetric_clip_loss(
    image: torch.Tensor,
    text: torch.Tensor,
    all_image: torch.Tensor,
    all_text: torch.Tensor,
    score: Score,
    logit_bias: Optional[torch.Tensor] = None,
    local_loss: bool = False,
) -> torch.Tensor:
    """(CE(image -> text) + CE(text -> image)) / 2 with matching pairs as positives.

    Args:
        image, text: (n, d) features of n matching pairs on this process.
        all_image, all_text: (W * n, d) the rows of every process (see :func:`gather_pairs`);
            ``image`` and ``text`` themselves on one process.
        score: ``score(anchors (N, d), candidates (M, d)) -> (N, M)`` logits; must satisfy
            ``score(a, c) == score(c, a).T``.
        logit_bias: optional scalar added to every logit (SigLIP-style models).
        local_loss: anchors are this process's rows only, candidates all rows (OpenCLIP's
            ``--local-loss``); otherwise every process scores the whole global batch.

    Returns:
        Scalar.
    """
    rank, _ = rank_and_world_size()
    n = image.shape[0]
    if local_loss:
        per_image, per_text = score(image, all_text), score(text, all_image)
        labels = torch.arange(n, device=image.device) + n * rank
    else:
        per_image = score(all_image, all_text)
        per_text = per_image.T
        labels = torch.arange(per_image.shape[0], device=image.device)
    if logit_bias is not None:
        per_image, per_text = per_image + logit_bias, per_text + logit_bias
    return (contrastive_cross_entropy(per_image, labels) + contrastive_cross_entropy(per_text, labels)) / 2


class _ClipFrame(nn.Module):
    """OpenCLIP's ``ClipLoss`` constructor flags, checked against torch.distributed."""

    def __init__(
        self,
        local_loss: bool = False,
        gather_with_grad: bool = False,
        cache_labels: bool = False,
        rank: int = 0,
        world_size: int = 1,
        use_horovod: bool = False,
    ):
        super().__init__()
        for name, value in (
            ("local_loss", local_loss),
            ("gather_with_grad", gather_with_grad),
            ("cache_labels", cache_labels),
            ("use_horovod", use_horovod),
        ):
            require_bool(name, value)
        if use_horovod:
            raise ValueError("use_horovod=True is not supported; use torch.distributed")
        actual_rank, actual_world_size = rank_and_world_size()
        if (rank, world_size) != (actual_rank, actual_world_size):
            raise ValueError(
                f"rank={rank}, world_size={world_size} must match torch.distributed "
                f"(rank={actual_rank}, world_size={actual_world_size})"
            )
        self.local_loss = local_loss
        self.gather_with_grad = gather_with_grad

    def _gather(self, image: torch.Tensor, text: torch.Tensor):
        return gather_pairs(image, text, self.local_loss, self.gather_with_grad)

    def _contrastive(self, image, text, score, logit_bias) -> torch.Tensor:
        image, text = _require_pairs(image, text)
        all_image, all_text = self._gather(image, text)
        return symmetric_clip_loss(image, text, all_image, all_text, score, logit_bias, self.local_loss)

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        logit_bias: Optional[torch.Tensor] = None,
        output_dict: bool = False,
    ) -> LossOutput:
        """OpenCLIP's call: ``{"contrastive_loss": loss}`` with ``output_dict``, else the loss."""
        _require_scalar_scale(logit_scale)
        _require_pairs(image_features, text_features)
        contrastive = self.contrastive(image_features, text_features, logit_scale, logit_bias)
        return {"contrastive_loss": contrastive} if output_dict else contrastive

    def contrastive(self, image_features, text_features, logit_scale, logit_bias) -> torch.Tensor:
        """The scalar loss of checked (n, d) features; each loss defines it."""
        raise NotImplementedError


def _require_scalar_scale(logit_scale) -> None:
    """OpenCLIP's logit_scale is one number; a vector would broadcast over the logits silently."""
    if not torch.is_tensor(logit_scale):
        if isinstance(logit_scale, bool) or not isinstance(logit_scale, numbers.Real):
            raise TypeError(f"logit_scale must be a number or a scalar tensor, got {type(logit_scale).__name__}")
        return
    require_float_tensor("logit_scale", logit_scale)
    if logit_scale.numel() != 1:
        raise ValueError(f"logit_scale must be a scalar, got a tensor of shape {tuple(logit_scale.shape)}")


def _require_pairs(image: torch.Tensor, text: torch.Tensor):
    require_float_tensor("image_features", image)
    require_float_tensor("text_features", text)
    if image.ndim != 2 or image.shape != text.shape:
        raise ValueError(
            "image_features and text_features must both have shape (n, d) and match; "
            f"got {tuple(image.shape)} and {tuple(text.shape)}"
        )
    return unit_rows(image), unit_rows(text)


class TriCLClipLoss(_ClipFrame):
    """triCL for image-text pairs: ``logits_ij = logit_scale * u_i^T diag(s) v_j``.

    Symmetric cross-entropy over both directions as in CLIP, plus a decorrelation term per
    modality, ``decorrelation_weight * (L_dec(u) + L_dec(v)) / 2``, over the gathered batch, in
    the form ``decorrelation`` (see :mod:`solo_tricl.losses.decorrelation`).

    s comes from ``feature_importance`` at call time (OpenCLIP: the model returns it next to
    ``logit_scale``, so the model's optimizer and checkpoints own theta), or else from the
    ``importance`` module given to the constructor (plain PyTorch).

    Reference: Zhang et al., "Tri-factor Contrastive Learning", 2023; Radford et al.,
    "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021.

    Shapes:
        image_features, text_features: (n, d); feature_importance: (d,); logit_scale: scalar.

    Examples:
        >>> loss_fn = TriCLClipLoss(FeatureImportance(64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64), logit_scale=torch.tensor(10.))
    """

    def __init__(
        self,
        importance: Optional[FeatureImportance] = None,
        decorrelation_weight: Optional[float] = None,
        decorrelation: str = DECORRELATION,
        **clip_flags,
    ):
        super().__init__(**clip_flags)
        self.importance = None if importance is None else require_importance_module(importance)
        self.decorrelation = decorrelation
        self.decorrelation_weight = decorrelation_weight_or_default(decorrelation_weight, decorrelation)

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        logit_bias: Optional[torch.Tensor] = None,
        feature_importance: Optional[torch.Tensor] = None,
        output_dict: bool = False,
    ) -> LossOutput:
        _require_scalar_scale(logit_scale)
        if feature_importance is None:
            if self.importance is None:
                raise ValueError(
                    "TriCLClipLoss needs feature_importance at call time or an importance module in its constructor"
                )
            feature_importance = self.importance()
        image, text = _require_pairs(image_features, text_features)
        require_importance_for(feature_importance, image_features)
        s = feature_importance

        def score(anchors, candidates):
            return logit_scale * (anchors * s) @ candidates.T

        all_image, all_text = self._gather(image, text)
        losses = {
            "contrastive_loss": symmetric_clip_loss(
                image, text, all_image, all_text, score, logit_bias, self.local_loss
            )
        }
        if self.decorrelation_weight > 0:
            decorrelation = sum(decorrelation_loss(rows, self.decorrelation) for rows in (all_image, all_text)) / 2
            losses["decorrelation_loss"] = self.decorrelation_weight * decorrelation
        return losses if output_dict else sum(losses.values())


class NCLClipLoss(_ClipFrame):
    """NCL for image-text pairs: CLIP's loss on ``phi(u)/||phi(u)||`` and ``phi(v)/||phi(v)||``.

    With ``non_neg=None`` the features are taken as already mapped (a model that applies phi
    before its own normalisation, as :mod:`solo_tricl.clip` sets OpenCLIP models up).

    Reference: Wang et al., "Non-negative Contrastive Learning", ICLR 2024.

    Shapes:
        image_features, text_features: (n, d); logit_scale: scalar.

    Examples:
        >>> loss_fn = NCLClipLoss(non_neg="relu")
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64), logit_scale=torch.tensor(10.))
    """

    def __init__(self, non_neg: Optional[str] = "rep_relu", **clip_flags):
        super().__init__(**clip_flags)
        self.non_negative = NonNegative(non_neg) if non_neg is not None else nn.Identity()

    def contrastive(self, image_features, text_features, logit_scale, logit_bias) -> torch.Tensor:
        def score(anchors, candidates):
            return logit_scale * anchors @ candidates.T

        return self._contrastive(self.non_negative(image_features), self.non_negative(text_features), score, logit_bias)


class KernelClipLoss(_ClipFrame):
    """Kernel InfoNCE for image-text pairs: logits ``-D_ij^gamma / tau``, D = ||u_i - v_j||.

    With ``temperature=None`` (default) the model's learnable ``logit_scale`` plays 1 / tau, so
    OpenCLIP keeps learning the temperature; gamma = 2 then equals CLIP at twice the scale.

    Reference: Tan et al., "Contrastive Learning is Spectral Clustering on Similarity Graph",
    ICLR 2024.

    Shapes:
        image_features, text_features: (n, d); logit_scale: scalar.

    Examples:
        >>> loss_fn = KernelClipLoss(gamma=1.0)
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64), logit_scale=torch.tensor(10.))
    """

    def __init__(
        self,
        gamma: float = GAMMA,
        temperature: Optional[float] = None,
        eps: float = EPS,
        **clip_flags,
    ):
        super().__init__(**clip_flags)
        self.gamma = require_gamma(gamma)
        self.temperature = None if temperature is None else require_positive("temperature", temperature)
        self.eps = require_positive("eps", eps)

    def contrastive(self, image_features, text_features, logit_scale, logit_bias) -> torch.Tensor:
        temperature = 1 / logit_scale if self.temperature is None else self.temperature

        def score(anchors, candidates):
            sq = squared_distances(anchors, candidates, eps=self.eps)
            return kernel_logits(sq, self.gamma, temperature)

        return self._contrastive(image_features, text_features, score, logit_bias)


class MatryoshkaClipLoss(_ClipFrame):
    """Matryoshka CLIP: CLIP's symmetric loss on nested prefixes ``u[:, :m]``, ``v[:, :m]``, each
    L2-normalised on its own, summed (or averaged) over m.

    Reference: Kusupati et al., "Matryoshka Representation Learning", NeurIPS 2022.

    Args:
        nesting: prefix sizes in [1, d]; None (default):
            :func:`solo_tricl.losses.matryoshka.default_nesting` from ``smallest_prefix``.
        reduction: ``sum`` (the authors') or ``mean`` of the per-prefix losses.
        smallest_prefix: with ``nesting`` None, the prefixes are ``smallest_prefix``, twice it, ...
            and d (the authors': 8).

    Shapes:
        image_features, text_features: (n, d); logit_scale: scalar.

    Examples:
        >>> loss_fn = MatryoshkaClipLoss(nesting=(8, 32, 64))
        >>> loss = loss_fn(torch.randn(8, 64), torch.randn(8, 64), logit_scale=torch.tensor(10.))
    """

    def __init__(
        self,
        nesting: Optional[Sequence[int]] = None,
        reduction: str = MRL_REDUCTION,
        smallest_prefix: int = MRL_SMALLEST_PREFIX,
        **clip_flags,
    ):
        super().__init__(**clip_flags)
        self.nesting = require_nesting(nesting)
        self.reduction = require_choice("reduction", reduction, MRL_REDUCTIONS)
        self.smallest_prefix = require_positive_int("smallest_prefix", smallest_prefix)

    def contrastive(self, image_features, text_features, logit_scale, logit_bias) -> torch.Tensor:
        all_image, all_text = self._gather(image_features, text_features)
        d = image_features.shape[1]

        def score(anchors, candidates):
            return logit_scale * anchors @ candidates.T

        terms = [
            symmetric_clip_loss(
                unit_rows(image_features[:, :m]),
                unit_rows(text_features[:, :m]),
                unit_rows(all_image[:, :m]),
                unit_rows(all_text[:, :m]),
                score,
                logit_bias,
                self.local_loss,
            )
            for m in require_nesting(self.nesting, d) or default_nesting(d, self.smallest_prefix)
        ]
        return nan_unless_finite(reduce_prefix_terms(terms, self.reduction), image_features, text_features)
