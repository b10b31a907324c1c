"""Reading files written with ``torch.save`` (checkpoints, fitted bases), with one-line errors."""

from pathlib import Path

import torch


def load_torch_file(path, what: str = "checkpoint", weights_only: bool = True):
    """``torch.load(path)`` on the CPU. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` naming ``what`` and the path for one torch cannot read (not torch's text, which
    runs to several lines and suggests unsafe loading)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as error:
        raise ValueError(f"cannot read {what} {path}: torch.load fails on it ({type(error).__name__}); "
                         "is it the right file, and complete?") from None


def state_dict_of(saved, path, what: str = "checkpoint") -> dict:
    """The ``state_dict`` entry of a loaded checkpoint, or a one-line ``ValueError``."""
    if not isinstance(saved, dict) or not isinstance(saved.get("state_dict"), dict):
        raise ValueError(f"{what} {path} holds no state_dict")
    return saved["state_dict"]
