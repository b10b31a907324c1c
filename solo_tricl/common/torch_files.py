"""Reading files written with ``torch.save`` (checkpoints, fitted bases), with one-line errors."""

from pathlib import Path


def load_torch_file(path, what: str = "checkpoint", weights_only: bool = True):
    """``torch.load(path)`` on the CPU. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` naming ``what`` and the path for one torch cannot read (not torch's text, which
    runs to several lines and suggests unsafe loading)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as error:
        raise ValueError(
            f"cannot read {what} {path}: torch.load fails on it ({type(error).__name__}); "
            "is it the right file, and complete?"
        ) from None


def state_dict_of(saved, path, what: str = "checkpoint") -> dict:
    """The ``state_dict`` entry of a loaded checkpoint, with any DDP ``module.`` prefix removed;
    a one-line ``ValueError`` if there is none, or if a weight holds NaN or Inf (a diverged run:
    every number measured on it would be meaningless)."""
    import torch

    if not isinstance(saved, dict) or not isinstance(saved.get("state_dict"), dict):
        raise ValueError(f"{what} {path} holds no state_dict")
    state = {key.removeprefix("module."): value for key, value in saved["state_dict"].items()}
    for key, value in state.items():
        if torch.is_tensor(value) and value.is_floating_point() and bool(torch.isnan(value).any()):
            raise ValueError(
                f"{what} {path}: {key} holds NaN (a diverged run); nothing measured on it would mean anything"
            )
    return state
