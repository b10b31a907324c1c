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
swapped for a subclass with one of the mixins below. A mixin changes what each tower's encoder
returns: ``encode_image``/``encode_text`` in OpenCLIP 3.3, or the ``_encode_image``/``_encode_text``
they delegate to where a model has them (OpenCLIP main, whose ``forward`` calls those directly).
"""

import torch
import torch.nn.functional as F

from solo_tricl.losses import FeatureImportance, NonNegative, TriCLClipLoss

IMPORTANCE_KEY = "feature_importance"
TOWERS = ("image", "text")


class _ImportanceMixin:
    """s on the model: returned by ``forward`` in training, folded into features in eval mode."""

    def _encoded(self, encode, inputs, normalize: bool):
        features = encode(inputs, normalize=normalize)
        if self.training:
            return features
        return features * self.feature_importance().sqrt().to(features.dtype)

    def forward(self, image=None, text=None):
        out = super().forward(image, text)
        if self.training and isinstance(out, dict):
            # a (1, k) row: OpenCLIP's --accum-freq concatenates every output along dim 0
            out[IMPORTANCE_KEY] = self.feature_importance().unsqueeze(0)
        return out


class _NonNegativeMixin:
    """phi on both towers before the normalisation of their encoders."""

    def _encoded(self, encode, inputs, normalize: bool):
        features = self.non_negative(encode(inputs, normalize=False))
        return F.normalize(features, dim=-1) if normalize else features


def encoder_name(model_class: type, tower: str) -> str:
    """The method every path to ``tower``'s features goes through: ``_encode_<tower>`` if the
    model has one, else ``encode_<tower>``."""
    private = f"_encode_{tower}"
    return private if hasattr(model_class, private) else f"encode_{tower}"


def _extend_class(model: torch.nn.Module, mixin: type, suffix: str) -> None:
    base = type(model)

    def encoder(name):
        def encode(self, inputs, normalize: bool = False):
            return self._encoded(getattr(super(extended, self), name), inputs, normalize)

        encode.__name__ = name
        return encode

    methods = {name: encoder(name) for name in (encoder_name(base, tower) for tower in TOWERS)}
    extended = type(f"{base.__name__}{suffix}", (mixin, base), methods)
    model.__class__ = extended


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


def add_feature_importance(model: torch.nn.Module, init_std: float = 0.1, scale: float = 1.0) -> torch.nn.Module:
    """Add triCL's ``feature_importance`` (theta, s = softplus(scale theta)) to an OpenCLIP model."""
    if hasattr(model, IMPORTANCE_KEY):
        raise ValueError("the model already has a feature_importance")
    reference = next(model.parameters())
    importance = FeatureImportance(embed_dim(model), init_std, scale)
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
