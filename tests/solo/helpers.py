"""Building solo-learn configs from the shipped configs, for the tests."""

from pathlib import Path
from typing import List

import pytest

from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available

needs_solo_learn = [
    pytest.mark.solo_learn,
    pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING),
]


def tiny_overrides(data: Path, checkpoints: Path, **extra) -> List[str]:
    """Overrides that make a shipped Fashion-MNIST config train in seconds on the CPU."""
    settings = {
        "data.train_path": str(data / "train"),
        "optimizer.batch_size": 32,
        "max_epochs": 1,
        "checkpoint.dir": str(checkpoints),
        "data.num_workers": 0,
        "method_kwargs.proj_hidden_dim": 64,
        "method_kwargs.proj_output_dim": 16,
        "++default_root_dir": str(checkpoints),  # Lightning's default logger writes here
        **extra,
    }
    return [f"{key}={quote(value)}" for key, value in settings.items()]


def quote(value):
    """Paths can hold '=' (solo-learn's checkpoint names do): quote them for hydra."""
    return f"'{value}'" if isinstance(value, str) else value


def pretrain_cfg(method: str, data: Path, checkpoints: Path, **extra):
    from solo_tricl.solo.cli import compose

    return compose("pretrain", None, f"fashion_mnist/{method}", tiny_overrides(data, checkpoints, **extra))
