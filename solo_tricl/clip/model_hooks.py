"""Changes to an OpenCLIP model that the new objectives need, made right after it is created.

OpenCLIP builds its optimizer, DDP wrapper and checkpoints from the model alone, so whatever a
loss needs to learn must live on the model:

* :func:`add_feature_importance` gives the model triCL's theta (``feature_importance.theta``,
  1-d, so OpenCLIP puts it in its no-weight-decay group), returns s next to ``logit_scale``
  from ``forward`` in training, and, in eval mode, weights every feature it emits by sqrt(s):
  any dot product of eval features (OpenCLIP's retrieval metrics, its zero-shot classifier,
  your own search) is then ``u^T diag(s) v``.
* :func:`add_non_negative_map` applies NCL's map to both towers' outputs before they are
  normalised, so training and every evaluation read the post-activation features.

The model keeps its class's methods and state-dict keys (plus the new parameter): its class is
swapped for a subclass with one of the mixins below.
"""

import torch
import torch.nn.functional as F

from solo_tricl.losses import FeatureImportance, NonNegative, TriCLClipLoss

IMPORTANCE_KEY = "feature_importance"


class _ImportanceMixin:
    """s on the model: returned by ``forward`` in training, folded into features in eval mode."""

    def _weighted(self, features: torch.Tensor) -> torch.Tensor:
        if self.training:
            return features
        return features * self.feature_importance().sqrt().to(features.dtype)

    def encode_image(self, image, normalize: bool = False):
        return self._weighted(super().encode_image(image, normalize=normalize))

    def encode_text(self, text, normalize: bool = False):
        return self._weighted(super().encode_text(text, normalize=normalize))

    def forward(self, image=None, text=None):
        out = super().forward(image, text)
        if self.training and isinstance(out, dict):
            # a (1, k) row: OpenCLIP's --accum-freq concatenates every output along dim 0
            out[IMPORTANCE_KEY] = self.feature_importance().unsqueeze(0)
        return out


class _NonNegativeMixin:
    """phi on both towers before the normalisation of ``encode_image``/``encode_text``."""

    def encode_image(self, image, normalize: bool = False):
        features = self.non_negative(super().encode_image(image, normalize=False))
        return F.normalize(features, dim=-1) if normalize else features

    def encode_text(self, text, normalize: bool = False):
        features = self.non_negative(super().encode_text(text, normalize=False))
        return F.normalize(features, dim=-1) if normalize else features


def _extend_class(model: torch.nn.Module, mixin: type, suffix: str) -> None:
    base = type(model)
    model.__class__ = type(f"{base.__name__}{suffix}", (mixin, base), {})


def embed_dim(model: torch.nn.Module) -> int:
    """The dimension of the joint embedding (the text projection's output)."""
    projection = getattr(model, "text_projection", None)
    if isinstance(projection, torch.nn.Linear):
        return projection.out_features
    if isinstance(projection, torch.Tensor):
        return projection.shape[1]
    visual = getattr(model, "visual", None)
    if hasattr(visual, "output_dim"):
        return visual.output_dim
    raise ValueError(f"cannot tell the embedding dimension of {type(model).__name__}")


def add_feature_importance(model: torch.nn.Module, init_std: float = 0.1) -> torch.nn.Module:
    """Add triCL's ``feature_importance`` (theta, s = softplus(theta)) to an OpenCLIP model."""
    if hasattr(model, IMPORTANCE_KEY):
        raise ValueError("the model already has a feature_importance")
    reference = next(model.parameters())
    importance = FeatureImportance(embed_dim(model), init_std)
    model.add_module(IMPORTANCE_KEY, importance.to(device=reference.device, dtype=reference.dtype))
    _extend_class(model, _ImportanceMixin, "WithImportance")
    return model


def add_non_negative_map(model: torch.nn.Module, name: str = "rep_relu") -> torch.nn.Module:
    """Apply NCL's non-negative map ``name`` to both towers before normalisation."""
    model.add_module("non_negative", NonNegative(name))
    _extend_class(model, _NonNegativeMixin, "NonNegative")
    return model


class OpenCLIPTriCLLoss(TriCLClipLoss):
    """TriCLClipLoss reading s from the model's (a, k) ``feature_importance`` output.

    With ``--accum-freq a`` OpenCLIP concatenates the (1, k) row of every micro-batch: all rows
    hold the same s, and only the current micro-batch's row carries gradient. The rows are
    collapsed so that the value is s and every row's gradient is kept whole.
    """

    def forward(
        self, image_features, text_features, logit_scale, logit_bias=None, feature_importance=None, output_dict=False
    ):
        if feature_importance is not None and feature_importance.ndim == 2:
            rows = feature_importance
            feature_importance = rows[0].detach() + (rows - rows.detach()).sum(dim=0)
        return super().forward(image_features, text_features, logit_scale, logit_bias, feature_importance, output_dict)
