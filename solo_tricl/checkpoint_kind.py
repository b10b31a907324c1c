"""Telling the two kinds of checkpoint this project writes apart, from the files beside them."""

from pathlib import Path

from solo_tricl.common.run_options import run_options_path

SOLO_LEARN, OPEN_CLIP = "solo-learn", "OpenCLIP"


def checkpoint_kind(checkpoint) -> str:
    """``solo-learn`` (its Checkpointer writes ``args.json`` beside every checkpoint) or
    ``OpenCLIP`` (``solo-tricl clip-train`` writes ``solo_tricl.json`` two folders up)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    if (checkpoint.parent / "args.json").exists():
        return SOLO_LEARN
    if run_options_path(checkpoint).exists():
        return OPEN_CLIP
    raise ValueError(
        f"{checkpoint} is neither a solo-learn checkpoint (args.json beside it) nor "
        "a solo-tricl clip-train checkpoint (solo_tricl.json two folders up)"
    )
