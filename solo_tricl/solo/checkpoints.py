"""Loading solo-learn pretraining checkpoints back into their method."""

import json
from pathlib import Path
from typing import Tuple, Union

import torch
from omegaconf import DictConfig, OmegaConf

from solo_tricl.common.torch_files import load_torch_file, state_dict_of
from solo_tricl.errors import BadInput, InputNotFound
from solo_tricl.solo.registry import register, require_solo_learn


def find_args(checkpoint: Path) -> Path:
    """solo-learn's Checkpointer writes ``args.json`` next to every checkpoint."""
    args = checkpoint.parent / "args.json"
    if not args.exists():
        raise BadInput(
            f"no args.json next to {checkpoint}: pass a checkpoint written by solo-learn's "
            "Checkpointer (checkpoint.dir/<method>/<version>/*.ckpt)"
        )
    return args


def load_method(checkpoint: Union[str, Path], map_location: str = "cpu") -> Tuple[torch.nn.Module, DictConfig]:
    """Rebuild the method of a checkpoint from its ``args.json`` and load its weights.

    Returns the method in eval mode and its config. Raises :class:`InputNotFound` or
    :class:`BadInput` with one line for a missing or unreadable file, an unknown method, or
    weights that do not fit the method its ``args.json`` names.

    Every parameter and buffer the method builds must be in the checkpoint; the checkpoint may hold
    more: state some methods register only while training (DeepCluster V2's memory bank, All4One's
    cached positional encoding), which solo-learn itself reloads with ``strict=False``.
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise InputNotFound(f"checkpoint {checkpoint} does not exist")
    methods = require_solo_learn().METHODS
    register()
    args = find_args(checkpoint)
    try:
        cfg = OmegaConf.create(json.loads(args.read_text()))
    except json.JSONDecodeError as error:
        raise BadInput(f"{args} is not solo-learn's args.json: {str(error).splitlines()[0]}") from None
    if not isinstance(cfg, DictConfig) or "method" not in cfg:
        raise BadInput(f"{args} is not solo-learn's args.json: it names no method")
    if cfg.method not in methods:
        raise BadInput(f"{checkpoint} was trained with method {cfg.method!r}, which is not installed")
    state = state_dict_of(load_torch_file(checkpoint), checkpoint)
    method = methods[cfg.method](cfg)
    expected = method.state_dict()
    missing = [key for key in expected if key not in state]
    unfit = [key for key in expected if key in state and state[key].shape != expected[key].shape]
    if missing or unfit:
        key = (missing or unfit)[0]
        why = "lacks" if missing else f"holds {tuple(state[key].shape)} for the {tuple(expected[key].shape)} of"
        raise BadInput(
            f"{checkpoint} does not fit method {cfg.method!r} as its args.json builds it: it {why} {key}"
            + (f" (and {len(missing + unfit) - 1} more)" if len(missing + unfit) > 1 else "")
        )
    method.load_state_dict(state, strict=False)
    return method.eval().to(map_location), cfg
