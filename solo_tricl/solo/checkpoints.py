"""Loading solo-learn pretraining checkpoints back into their method."""

import json
from pathlib import Path
from typing import Tuple, Union

import torch
from omegaconf import DictConfig, OmegaConf

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
    cfg = OmegaConf.create(json.loads(find_args(checkpoint).read_text()))
    if cfg.method not in methods:
        raise ValueError(f"{checkpoint} was trained with method {cfg.method!r}, which is not installed")
    try:
        state = torch.load(checkpoint, map_location=map_location, weights_only=True)["state_dict"]
    except Exception as error:
        raise ValueError(f"cannot read checkpoint {checkpoint}: {type(error).__name__}: {str(error).splitlines()[0]}") from None
    method = methods[cfg.method](cfg)
    method.load_state_dict(state)
    return method.eval(), cfg
