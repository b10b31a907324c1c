"""``solo-tricl pretrain``: solo-learn's ``main_pretrain.py``, installed; and the config handling it
shares with ``solo-tricl linear`` (:mod:`solo_tricl.evaluate.linear_cli`).

Both take a hydra config and overrides exactly like solo-learn's ``main_pretrain.py`` and
``main_linear.py``; the plugin methods are registered first. Without ``--config-path`` the
config name is looked up in the configs shipped with solo-tricl, e.g.
``--config-name fashion_mnist/tricl``.
"""

import argparse
from pathlib import Path
from typing import List, Optional

from solo_tricl.common.files import write_json
from solo_tricl.errors import CommandError


def shipped_configs() -> Path:
    """The hydra configs shipped with solo-tricl: ``solo_tricl/configs`` inside an installed
    wheel, the repository's top-level ``configs/`` in a checkout or an editable install."""
    package = Path(__file__).resolve().parent.parent
    inside_wheel = package / "configs"
    return inside_wheel if inside_wheel.is_dir() else package.parent / "configs"


PACKAGED_CONFIGS = shipped_configs()
ADDED_KEYS_HINT = "+seed=1 +resume_from_checkpoint=PATH"


def add_config_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    packaged = sorted(f"{p.parent.name}/{p.stem}" for p in (PACKAGED_CONFIGS / kind).glob("*/*.yaml"))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "shipped configs (use with --config-name, no --config-path):\n  " + "\n  ".join(packaged)
    parser.add_argument(
        "--config-path",
        "-cp",
        default=None,
        help="directory of your hydra config (or pkg://module); default: solo-tricl's configs",
    )
    parser.add_argument(
        "--config-name",
        "-cn",
        required=True,
        help="config file name, e.g. simclr.yaml, or DATASET/METHOD for a shipped config",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="hydra overrides, e.g. max_epochs=1 data.train_path=DIR method_kwargs.temperature=0.1",
    )


def compose(kind: str, config_path: Optional[str], config_name: str, overrides: List[str]):
    """Compose a hydra config the way ``@hydra.main`` would, as a mutable DictConfig, after
    checking the overrides' types against the config file
    (:func:`solo_tricl.solo.preflight.check_override_types`)."""
    return compose_with_reference(kind, config_path, config_name, overrides)[0]


def compose_with_reference(kind: str, config_path: Optional[str], config_name: str, overrides: List[str]):
    """(:func:`compose`'s config, the config file composed without the overrides): the pre-flight
    checks of a run tell the keys a user added from the file's with it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir, initialize_config_module
    from hydra.errors import HydraException, OverrideParseException
    from omegaconf import OmegaConf

    if config_path is None:
        name = Path(config_name)
        directory = PACKAGED_CONFIGS / kind / name.parent
        if name.parent == Path(".") or not directory.is_dir():
            raise CommandError(
                f"--config-name {config_name}: without --config-path it must be DATASET/METHOD "
                f"of a shipped config (see --help)"
            )
        context, config_name = initialize_config_dir(str(directory), version_base="1.2"), name.name
    elif config_path.startswith("pkg://"):
        context = initialize_config_module(config_path[len("pkg://") :], version_base="1.2")
    else:
        directory = Path(config_path).resolve()
        if not directory.is_dir():
            raise CommandError(f"--config-path {config_path} is not a directory")
        context = initialize_config_dir(str(directory), version_base="1.2")
    try:
        with context:
            cfg = hydra_compose(config_name=config_name, overrides=overrides)
            reference = hydra_compose(config_name=config_name, overrides=[])
    except OverrideParseException as error:
        raise CommandError(
            f"cannot parse the overrides ({str(error).splitlines()[0]}); quote values that hold "
            "'=' or spaces, e.g. +resume_from_checkpoint=\"'path/ep=1.ckpt'\""
        ) from None
    except HydraException as error:
        message = " ".join(str(error).split())
        if "Could not override" in message:
            message += f"; keys that the shipped configs do not hold take a '+', e.g. {ADDED_KEYS_HINT}"
        raise CommandError(message) from None
    OmegaConf.set_struct(cfg, False)
    if overrides:
        from solo_tricl.solo.preflight import check_override_types

        check_override_types(reference, cfg, overrides)
    return cfg, reference


def configure_pretrain(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "pretrain")
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="where to save the importance curve of a triCL run (default: importance.png next to the last checkpoint)",
    )


def run_pretrain(args: argparse.Namespace) -> int:
    cfg, reference = compose_with_reference("pretrain", args.config_path, args.config_name, args.overrides)
    result = _import_solo("solo_tricl.solo.pretrain").pretrain(cfg, overrides=args.overrides, reference=reference)
    if result.last_checkpoint:
        print(f"checkpoint: {result.last_checkpoint}")
    importance = getattr(result.method, "importance", None)
    if callable(importance):
        report_importance(importance().detach().cpu(), result, args.plot)
    return 0


def report_importance(s, result, plot_path: Optional[Path]) -> None:
    from solo_tricl.common.plots import plot_importance

    importance = result.method.importance
    order = s.argsort(descending=True)
    entropy = importance.entropy().item()
    print(
        f"learned importance s over {len(s)} features ({importance.parametrisation}; s = {importance.neutral():.3f} "
        "at theta = 0, around which it starts):"
    )
    print(f"  max {s.max():.3f}  median {s.median():.3f}  min {s.min():.3f}  normalised entropy {entropy:.3f}")
    print("  top features (index: s): " + ", ".join(f"{i}: {s[i]:.3f}" for i in order[:10].tolist()))
    directory = Path(result.last_checkpoint).parent if result.last_checkpoint else Path(".")
    plot_path = plot_path or directory / "importance.png"
    plot_importance(
        s.numpy(),
        plot_path,
        f"{result.cfg.name}: learned importance s",
        initial=importance.neutral(),
        ylabel=importance.parametrisation,
    )
    write_json(plot_path.with_suffix(".json"), {"s": s.tolist(), "order": order.tolist(), "entropy": entropy})
    print(f"importance curve: {plot_path} (values in {plot_path.with_suffix('.json')})")


def _import_solo(module: str):
    import importlib

    from solo_tricl.solo.registry import require_solo_learn

    require_solo_learn()
    return importlib.import_module(module)
