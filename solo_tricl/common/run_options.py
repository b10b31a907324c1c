"""Where ``solo-tricl clip-train`` keeps a run's options: beside OpenCLIP's ``checkpoints/`` folder."""

from pathlib import Path

RUN_OPTIONS_FILE = "solo_tricl.json"


def run_options_path(checkpoint) -> Path:
    """``<logs>/<name>/solo_tricl.json`` for a checkpoint in ``<logs>/<name>/checkpoints/``."""
    return Path(checkpoint).resolve().parent.parent / RUN_OPTIONS_FILE
