"""Feature orders by which k of a run's features are chosen: by learned importance s (triCL),
by activation mass, or random; and the names of every order :mod:`solo_tricl.evaluate.orders`
knows (importing this module does not import torch)."""

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import torch

# the orders linear and clip-zeroshot choose k features by
ORDERS = ("importance", "activation", "random")
# every order evaluate and the bench measure: the model's own features reordered, or rotated
SELECTION_ORDERS = ("importance", "activation", "prefix", "random")
ROTATION_ORDERS = ("pca", "canonical")
ALL_ORDERS = ("importance", "activation", "prefix", "pca", "canonical", "random")


def activation_mass(features: "torch.Tensor") -> "torch.Tensor":
    """(N, k) features -> (k,) mean |z_j| over the samples."""
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (N, k) matrix, got {tuple(features.shape)}")
    return features.abs().mean(dim=0)


def feature_order(
    order: str,
    num_features: int,
    importance: Optional["torch.Tensor"] = None,
    features: Optional["torch.Tensor"] = None,
    seed: int = 0,
) -> "torch.Tensor":
    """(k,) feature indices, most important first.

    Args:
        order: ``importance`` (by s when the method learned one, else by activation mass),
            ``activation`` (by mean |z| over ``features``) or ``random`` (a seeded permutation).
        num_features: k.
        importance: (k,) learned importance s, or None.
        features: (N, k) features of held-out or training samples, for activation mass.
        seed: seed of the random order.
    """
    import torch

    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    if order == "random":
        return torch.randperm(num_features, generator=torch.Generator().manual_seed(seed))
    if order == "importance" and importance is not None:
        scores = importance.detach().float().cpu()
    else:
        if features is None:
            raise ValueError(f"order {order!r} needs features to measure activation mass")
        scores = activation_mass(features.detach().float().cpu())
    if scores.numel() != num_features:
        raise ValueError(f"scores have {scores.numel()} entries, expected k={num_features}")
    return torch.argsort(scores, descending=True, stable=True)
