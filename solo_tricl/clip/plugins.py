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
from typing import Any, Callable, Dict, List, Optional, Tuple

from solo_tricl.common.options import (
    DECORRELATION,
    DECORRELATION_WEIGHT,
    GAMMA,
    IMPORTANCE_INIT_STD,
    IMPORTANCE_SCALE,
    NESTING,
    NON_NEG,
    REDUCTION,
    SMALLEST_PREFIX,
    Option,
    check_options,
    flag,
    optional,
    positive,
)

ENTRY_POINT_GROUP = "open_clip.losses"


@dataclass(frozen=True)
class ClipLossPlugin:
    """A loss factory for open_clip_train, with optional up-front checks and a model hook.

    ``open_clip_loss`` marks OpenCLIP's own loss: the launcher then keeps the loss OpenCLIP builds
    for the run (ClipLoss, SigLIP's, CoCa's, the distillation loss, or its task's own) instead of
    calling ``create``.
    """

    create: Callable[[argparse.Namespace], Any]
    options: Dict[str, Option] = field(default_factory=dict)
    prepare_model: Optional[Callable[[Any, argparse.Namespace], None]] = None
    help: str = ""
    open_clip_loss: bool = False

    def __call__(self, args):
        return self.create(args)

    def validate(self, values: argparse.Namespace) -> None:
        """Check this loss's options on ``values``; a ValueError names the flag."""
        check_options(vars(values), self.options, flag)


def distributed_flags(args) -> Dict:
    """OpenCLIP's ClipLoss flags, as its create_loss passes them."""
    return dict(
        local_loss=args.local_loss,
        gather_with_grad=args.gather_with_grad,
        cache_labels=True,
        rank=args.rank,
        world_size=args.world_size,
    )


# the options of each of our losses, with their command-line flags (--decorrelation-weight, ...)
TRICL_OPTIONS = {
    "importance_init_std": IMPORTANCE_INIT_STD,
    "importance_scale": IMPORTANCE_SCALE,
    "decorrelation": DECORRELATION,
    "decorrelation_weight": DECORRELATION_WEIGHT,
}
NCL_OPTIONS = {"non_neg": NON_NEG}
KERNEL_OPTIONS = {
    "gamma": GAMMA,
    "kernel_temperature": Option(
        None, optional(positive), "a fixed tau (default: the model's learnable 1 / logit_scale)", float
    ),
}


# the factories and hooks import torch, OpenCLIP and the losses when a run needs them, not when
# the plugins are listed (clip-train --help)
def _open_clip_loss(args):
    from open_clip import create_loss

    return create_loss(args)


def _tricl_loss(args):
    from solo_tricl.clip.model_hooks import OpenCLIPTriCLLoss

    return OpenCLIPTriCLLoss(
        decorrelation_weight=args.solo_tricl.decorrelation_weight,
        decorrelation=args.solo_tricl.decorrelation,
        **distributed_flags(args),
    )


def _tricl_model(model, options):
    from solo_tricl.clip.model_hooks import add_feature_importance

    add_feature_importance(model, options.importance_init_std, options.importance_scale)


def _ncl_loss(args):
    from solo_tricl.losses import NCLClipLoss

    # the model applies phi before normalising (_ncl_model), so the loss must not again
    return NCLClipLoss(non_neg=None, **distributed_flags(args))


def _ncl_model(model, options):
    from solo_tricl.clip.model_hooks import add_non_negative_map

    add_non_negative_map(model, options.non_neg)


def _kernel_loss(args):
    from solo_tricl.losses import KernelClipLoss

    return KernelClipLoss(args.solo_tricl.gamma, args.solo_tricl.kernel_temperature, **distributed_flags(args))


def _mrl_loss(args):
    from solo_tricl.losses import MatryoshkaClipLoss

    options = args.solo_tricl
    return MatryoshkaClipLoss(options.nesting, options.reduction, options.smallest_prefix, **distributed_flags(args))


CLIP = ClipLossPlugin(
    _open_clip_loss, help="OpenCLIP's own loss (the default; with --siglip, SigLIP's)", open_clip_loss=True
)
TRICL = ClipLossPlugin(
    _tricl_loss,
    options=TRICL_OPTIONS,
    prepare_model=_tricl_model,
    help="triCL: logits u^T diag(s) v with a learned s on the model",
)
NCL = ClipLossPlugin(
    _ncl_loss,
    options=NCL_OPTIONS,
    prepare_model=_ncl_model,
    help="NCL: a non-negative map on both towers before normalisation",
)
KERNEL = ClipLossPlugin(
    _kernel_loss,
    options=KERNEL_OPTIONS,
    help="kernel InfoNCE: logits -D^gamma / tau (tau = 1 / logit_scale unless fixed)",
)
MRL = ClipLossPlugin(
    _mrl_loss,
    options={"nesting": NESTING, "smallest_prefix": SMALLEST_PREFIX, "reduction": REDUCTION},
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


# options whose default changed since they were added: a run saved before the option existed
# trained with this value, not with today's default
BEFORE_THE_OPTION = {"importance_scale": 1.0, "smallest_prefix": 1}


def options_with_defaults(saved: Dict) -> argparse.Namespace:
    """A run's saved options (``solo_tricl.json``) completed with the values a run saved before an
    option existed trained with (:data:`BEFORE_THE_OPTION`), else today's defaults: a checkpoint
    saved before an option existed still loads, and means what it meant."""
    defaults = {name: option.default for name, (option, _) in declared_options(load_plugins()).items()}
    return argparse.Namespace(**{**defaults, **BEFORE_THE_OPTION, **saved})


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
            warnings.warn(
                f"solo-tricl: skipped open_clip.losses entry point {entry_point.name!r} "
                f"({entry_point.value}): {type(error).__name__}: {error}"
            )
    return plugins
