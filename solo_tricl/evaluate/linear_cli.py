"""``solo-tricl linear``: solo-learn's ``main_linear.py`` with its hydra config and overrides
(:mod:`solo_tricl.evaluate.linear`), optionally on the top-k projector features of an order
(:mod:`solo_tricl.evaluate.orders`). Importing this module imports neither torch nor solo-learn.
"""

import argparse

from solo_tricl.errors import CommandError
from solo_tricl.evaluate.orders import ACTIVATION_IMAGES, SELECTION_ORDERS
from solo_tricl.solo import cli as solo_cli


def configure_linear(parser: argparse.ArgumentParser) -> None:
    solo_cli.add_config_arguments(parser, "linear")
    parser.add_argument(
        "--top-k",
        type=int,
        default=None,
        metavar="K",
        help="probe K projector features instead of the backbone features",
    )
    parser.add_argument(
        "--order",
        choices=SELECTION_ORDERS,
        default="importance",
        help="which K: importance (triCL's s, Matryoshka's prefix, activation mass for other methods), "
        f"activation (mean |z| on {ACTIVATION_IMAGES:,} unaugmented training images, the same seeded sample "
        "as evaluate's), prefix (the first K) or random",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --order random")
    parser.set_defaults(
        _requires=[
            ("--order", lambda args: args.top_k is not None, "--top-k"),
            ("--seed", lambda args: args.order == "random", "--order random"),
        ]
    )


def run_linear(args: argparse.Namespace) -> int:
    if args.top_k is not None and args.top_k < 1:
        raise CommandError(f"--top-k must be >= 1, got {args.top_k}")
    cfg, reference = solo_cli.compose_with_reference("linear", args.config_path, args.config_name, args.overrides)
    linear = solo_cli._import_solo("solo_tricl.evaluate.linear")
    result = linear.linear(cfg, args.top_k, args.order, args.seed, overrides=args.overrides, reference=reference)
    metrics = {k: float(v) for k, v in result.trainer.callback_metrics.items() if v.numel() == 1}
    if result.columns is not None:
        representation = getattr(result.model.backbone, "representation", "projector output")
        print(
            f"probed {len(result.columns)} features of its {representation} ({args.order} order): "
            f"{result.columns.tolist()}"
        )
    # solo-learn logs accuracies in percent; solo-tricl reports fractions everywhere
    for name, scale in (("val_acc1", 100), ("val_acc5", 100), ("val_loss", 1)):
        if name in metrics:
            print(f"{name}: {metrics[name] / scale:.4f}")
    if result.last_checkpoint:
        print(f"checkpoint: {result.last_checkpoint}")
    return 0
