"""Loading solo-learn pretraining checkpoints back into their method."""

import json
from pathlib import Path
from typing import Tuple, Union

import torch
from omegaconf import DictConfig, OmegaConf

from solo_tricl.common.torch_files import load_torch_file, state_dict_of
from solo_tricl.solo.registry import register, require_solo_learn


def find_args(checkpoint: Path) -> Path:
    """solo-learn's Checkpointer writes ``args.json`` next to every checkpoint."""
    args = checkpoint.parent / "args.json"
    if not args.exists():
        raise ValueError(
            f"no args.json next to {checkpoint}: pass a checkpoint written by solo-learn's "
            "Checkpointer (checkpoint.dir/<method>/<version>/*.ckpt)"
        )
    return args


def load_method(checkpoint: Union[str, Path], map_location: str = "cpu") -> Tuple[torch.nn.Module, DictConfig]:
    """Rebuild the method of a checkpoint from its ``args.json`` and load its weights.

    Returns the method in eval mode and its config. Raises ``FileNotFoundError`` or ``ValueError`` with one line
    for a missing or unreadable file or an unknown method.
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    methods = require_solo_learn().METHODS
    register()
    args = find_args(checkpoint)
    try:
        cfg = OmegaConf.create(json.loads(args.read_text()))
    except ValueError as error:
        raise ValueError(f"{args} is not solo-learn's args.json: {str(error).splitlines()[0]}") from None
    if not isinstance(cfg, DictConfig) or "method" not in cfg:
        raise ValueError(f"{args} is not solo-learn's args.json: it names no method")
    if cfg.method not in methods:
        raise ValueError(f"{checkpoint} was trained with method {cfg.method!r}, which is not installed")
    state = state_dict_of(load_torch_file(checkpoint), checkpoint)
    method = methods[cfg.method](cfg)
    method.load_state_dict(state)
    return method.eval().to(map_location), cfg
