"""Telling the two kinds of checkpoint this project writes apart, from the files beside them."""

from pathlib import Path

from solo_tricl.common.run_options import open_clip_params_path, run_options_path
from solo_tricl.errors import BadInput, InputNotFound

SOLO_LEARN, OPEN_CLIP = "solo-learn", "OpenCLIP"


def checkpoint_kind(checkpoint) -> str:
    """``solo-learn`` (its Checkpointer writes ``args.json`` beside every checkpoint) or
    ``OpenCLIP`` (``solo-tricl clip-train`` writes ``solo_tricl.json`` two folders up, and
    ``open_clip_train`` its ``params.txt``)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise InputNotFound(f"checkpoint {checkpoint} does not exist")
    if (checkpoint.parent / "args.json").exists():
        return SOLO_LEARN
    if run_options_path(checkpoint).exists() or open_clip_params_path(checkpoint).exists():
        return OPEN_CLIP
    raise BadInput(
        f"{checkpoint} is neither a solo-learn checkpoint (args.json beside it) nor "
        "an OpenCLIP checkpoint (solo_tricl.json or open_clip_train's params.txt two folders up)"
    )
