"""Where an OpenCLIP run keeps its options, beside OpenCLIP's ``checkpoints/`` folder: solo-tricl's
launcher writes ``solo_tricl.json``; ``open_clip_train`` itself writes ``params.txt``."""

from pathlib import Path

RUN_OPTIONS_FILE = "solo_tricl.json"
OPEN_CLIP_PARAMS_FILE = "params.txt"


def run_options_path(checkpoint) -> Path:
    """``<logs>/<name>/solo_tricl.json`` for a checkpoint in ``<logs>/<name>/checkpoints/``."""
    return Path(checkpoint).resolve().parent.parent / RUN_OPTIONS_FILE


def open_clip_params_path(checkpoint) -> Path:
    """``<logs>/<name>/params.txt``, open_clip_train's record of a run's options, for a checkpoint
    in ``<logs>/<name>/checkpoints/``."""
    return Path(checkpoint).resolve().parent.parent / OPEN_CLIP_PARAMS_FILE
