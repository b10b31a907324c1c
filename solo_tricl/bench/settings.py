"""What a bench trains: its variants, each from a shipped Fashion-MNIST config, and its settings.

Every solo-learn variant trains from its own shipped config, ``configs/pretrain/fashion_mnist/``,
whose learning rate and key hyperparameter were tuned by ``solo-tricl bench --tune``
(``benchmarks/results/tuning.md``) with the same budget for every method. Importing this module
imports neither torch nor a host.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from solo_tricl.errors import CommandError

BASELINE = "simclr"
# variants that are a shipped config plus overrides (not in the default bench: untuned)
OVERRIDE_VARIANTS = {"tricl-reference": ("tricl", ("method_kwargs.decorrelation=reference",))}
DEFAULT_VARIANTS = ("simclr", "byol", "barlow_twins", "vicreg", "mocov3", "tricl", "tri-scl", "ncl", "kernel", "mrl")
NOISE_FLOOR_VARIANT = "tricl"  # its first seed is paired with a run of the same init, other data order

# OpenCLIP runs: bench name -> (our --loss, open_clip_train options beyond the shared ones)
CLIP_VARIANTS = {
    "clip": ("clip", ()),
    "siglip": ("clip", ("--siglip",)),
    "tricl": ("tricl", ()),
    "ncl": ("ncl", ()),
    "kernel": ("kernel", ()),
    "mrl": ("mrl", ()),
}
CLIP_BASELINE = "clip"
# each CLIP variant's learning rate; `solo-tricl bench --tune` selects them (tuning.md), not run yet at full size
CLIP_LEARNING_RATES = {"clip": 1e-3, "siglip": 1e-3, "tricl": 1e-3, "ncl": 1e-3, "kernel": 1e-3, "mrl": 1e-3}


def config_name(variant: str) -> str:
    """The shipped config a variant trains from, e.g. ``fashion_mnist/tri-scl``."""
    return f"fashion_mnist/{OVERRIDE_VARIANTS[variant][0] if variant in OVERRIDE_VARIANTS else variant}"


def config_file(variant: str) -> Path:
    from solo_tricl.solo.cli import PACKAGED_CONFIGS

    return PACKAGED_CONFIGS / "pretrain" / f"{config_name(variant)}.yaml"


def variant_config(variant: str) -> Tuple[str, List[str]]:
    """(shipped config, overrides) of a variant."""
    overrides = OVERRIDE_VARIANTS[variant][1] if variant in OVERRIDE_VARIANTS else ()
    return config_name(variant), list(overrides)


def check_variants(variants) -> None:
    """Every variant has a shipped config, and the baseline is among them."""
    if BASELINE not in variants:
        raise CommandError(f"--methods must include the baseline {BASELINE}")
    for variant in variants:
        if not config_file(variant).is_file():
            raise CommandError(
                f"--methods: {variant!r} has no shipped Fashion-MNIST config ({config_file(variant)}), so it was "
                f"never tuned; allowed: {', '.join(shipped_variants())}"
            )


def shipped_variants() -> List[str]:
    """Every variant the bench can train: one per shipped Fashion-MNIST config, and the overrides."""
    from solo_tricl.solo.cli import PACKAGED_CONFIGS

    return [
        *sorted(p.stem for p in (PACKAGED_CONFIGS / "pretrain" / "fashion_mnist").glob("*.yaml")),
        *OVERRIDE_VARIANTS,
    ]


def variant_method(variant: str) -> str:
    """The solo-learn method a variant trains (``tri-scl`` is ``tricl``)."""
    from solo_tricl.solo.cli import compose

    return str(compose("pretrain", None, *variant_config(variant)).method)


@dataclass(frozen=True)
class BenchSettings:
    """What a bench run trains and measures (the ``solo-tricl bench`` options, as values)."""

    methods: Tuple[str, ...] = DEFAULT_VARIANTS
    seeds: Tuple[int, ...] = (0, 1, 2)
    clip_losses: Tuple[str, ...] = tuple(CLIP_VARIANTS)
    epochs: int = 6
    clip_epochs: int = 10
    budget: float = 1.0
    fraction: float = 0.1
    eval_train: int = 5000
    eval_test: int = 5000
    basis_images: int = 5000
    noise_floor: bool = True
    cost_repeats: int = 2
    accelerator: str = "cpu"
    work: Path = Path("bench-work")
    retrain: bool = False

    @property
    def solo_epochs(self) -> int:
        return max(1, math.ceil(self.epochs * self.budget))

    @property
    def open_clip_epochs(self) -> int:
        return max(1, math.ceil(self.clip_epochs * self.budget))

    def solo_run_dir(self, name: str) -> Path:
        """Where the solo-learn run ``name`` trains, and where its measurement is saved."""
        return self.work / "solo" / name

    def clip_logs(self) -> Path:
        return self.work / "clip"
