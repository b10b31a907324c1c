"""Loss plugins for ``open_clip_train``: the ``open_clip.losses`` entry-point group.

An entry point names a callable ``(args) -> loss`` where ``args`` is OpenCLIP's parsed
namespace (with this package's options as ``args.solo_tricl``) and the loss keeps OpenCLIP's
``ClipLoss`` call contract. A :class:`ClipLossPlugin` is such a callable that can also validate
its options before anything is built and prepare the model right after OpenCLIP creates it.
"""

import argparse
import importlib.metadata
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch

from solo_tricl.clip import model_hooks
from solo_tricl.common.options import (
    DECORRELATION,
    DECORRELATION_WEIGHT,
    GAMMA,
    IMPORTANCE_INIT_STD,
    NESTING,
    NON_NEG,
    Option,
    check_options,
    flag,
    optional,
    positive,
)
from solo_tricl.losses import KernelClipLoss, MatryoshkaClipLoss, NCLClipLoss, TriCLClipLoss

ENTRY_POINT_GROUP = "open_clip.losses"


@dataclass(frozen=True)
class ClipLossPlugin:
    """A loss factory for open_clip_train, with optional up-front checks and a model hook."""

    create: Callable[[argparse.Namespace], torch.nn.Module]
    options: Dict[str, Option] = field(default_factory=dict)
    prepare_model: Optional[Callable[[torch.nn.Module, argparse.Namespace], None]] = None
    help: str = ""

    def __call__(self, args):
        return self.create(args)

    def validate(self, values: argparse.Namespace) -> None:
        """Check this loss's options on ``values``; a ValueError names the flag."""
        check_options(vars(values), self.options, flag)


def distributed_flags(args) -> Dict:
    """OpenCLIP's ClipLoss flags, as its create_loss passes them."""
    return dict(local_loss=args.local_loss, gather_with_grad=args.gather_with_grad,
                cache_labels=True, rank=args.rank, world_size=args.world_size)


class OpenCLIPTriCLLoss(TriCLClipLoss):
    """TriCLClipLoss reading s from the model's (a, k) ``feature_importance`` output.

    With ``--accum-freq a`` OpenCLIP concatenates the (1, k) row of every micro-batch: all rows
    hold the same s, and only the current micro-batch's row carries gradient. The rows are
    collapsed so that the value is s and every row's gradient is kept whole.
    """

    def forward(self, image_features, text_features, logit_scale, logit_bias=None,
                feature_importance=None, output_dict=False):
        if feature_importance is not None and feature_importance.ndim == 2:
            rows = feature_importance
            feature_importance = rows[0].detach() + (rows - rows.detach()).sum(dim=0)
        return super().forward(image_features, text_features, logit_scale, logit_bias,
                               feature_importance, output_dict)


# the options of each of our losses, with their command-line flags (--decorrelation-weight, ...)
TRICL_OPTIONS = {"importance_init_std": IMPORTANCE_INIT_STD, "decorrelation": DECORRELATION,
                 "decorrelation_weight": DECORRELATION_WEIGHT}
NCL_OPTIONS = {"non_neg": NON_NEG}
KERNEL_OPTIONS = {"gamma": GAMMA, "kernel_temperature": Option(
    None, optional(positive), "a fixed tau (default: the model's learnable 1 / logit_scale)", float)}


def _open_clip_loss(args):
    from open_clip import create_loss

    return create_loss(args)


CLIP = ClipLossPlugin(_open_clip_loss, help="OpenCLIP's own loss (the default)")
TRICL = ClipLossPlugin(
    lambda args: OpenCLIPTriCLLoss(
        decorrelation_weight=args.solo_tricl.decorrelation_weight,
        decorrelation=args.solo_tricl.decorrelation, **distributed_flags(args)
    ),
    options=TRICL_OPTIONS,
    prepare_model=lambda model, options: model_hooks.add_feature_importance(
        model, options.importance_init_std
    ),
    help="triCL: logits u^T diag(s) v with a learned s on the model",
)
NCL = ClipLossPlugin(
    # the model applies phi before normalising (prepare_model), so the loss must not again
    lambda args: NCLClipLoss(non_neg=None, **distributed_flags(args)),
    options=NCL_OPTIONS,
    prepare_model=lambda model, options: model_hooks.add_non_negative_map(model, options.non_neg),
    help="NCL: a non-negative map on both towers before normalisation",
)
KERNEL = ClipLossPlugin(
    lambda args: KernelClipLoss(
        args.solo_tricl.gamma, args.solo_tricl.kernel_temperature, **distributed_flags(args)
    ),
    options=KERNEL_OPTIONS,
    help="kernel InfoNCE: logits -D^gamma / tau (tau = 1 / logit_scale unless fixed)",
)

MRL = ClipLossPlugin(
    lambda args: MatryoshkaClipLoss(args.solo_tricl.nesting, **distributed_flags(args)),
    options={"nesting": NESTING},
    help="Matryoshka: CLIP's loss on nested prefixes of both embeddings",
)


def declared_options(plugins: Dict[str, Callable]) -> Dict[str, Tuple[Option, List[str]]]:
    """Every option the plugins declare (``plugin.options``), with the plugins that read it, in
    the order met; an option two plugins declare differently keeps the first declaration."""
    declared: Dict[str, Tuple[Option, List[str]]] = {}
    for name, plugin in sorted(plugins.items()):
        for option_name, option in getattr(plugin, "options", {}).items():
            if option_name in declared:
                declared[option_name][1].append(name)
            else:
                declared[option_name] = (option, [name])
    return declared


def options_with_defaults(saved: Dict) -> argparse.Namespace:
    """A run's saved options (``solo_tricl.json``) completed with today's defaults: a checkpoint
    saved before an option existed still loads."""
    defaults = {name: option.default for name, (option, _) in declared_options(load_plugins()).items()}
    return argparse.Namespace(**{**defaults, **saved})


def load_plugins() -> Dict[str, Callable]:
    """Every ``open_clip.losses`` entry point by name; a broken one warns and is skipped."""
    plugins, seen = {}, set()
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (entry_point.name, entry_point.value) in seen:
            continue
        seen.add((entry_point.name, entry_point.value))
        try:
            plugins[entry_point.name] = entry_point.load()
        except Exception as error:
            warnings.warn(f"solo-tricl: skipped open_clip.losses entry point {entry_point.name!r} "
                          f"({entry_point.value}): {type(error).__name__}: {error}")
    return plugins
