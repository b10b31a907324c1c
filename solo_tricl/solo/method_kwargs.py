"""Validation of ``method_kwargs`` for the plugin methods, before anything is built.

Pure Python on an omegaconf ``DictConfig``: importing it does not import solo-learn. Every
error names the offending key (``method_kwargs.<key>``) and the values it allows.
"""

import math
from typing import Dict, Iterable, Optional

from omegaconf import DictConfig, OmegaConf

from solo_tricl.common.options import (
    DECORRELATION,
    DECORRELATION_WEIGHT,
    GAMMA,
    IMPORTANCE_INIT_STD,
    NESTING,
    NON_NEG,
    REDUCTION,
    REQUIRED,
    SMALLEST_PREFIX,
    TEMPERATURE,
    Option,
    choice,
    non_negative,
    optional,
    positive,
    positive_int,
    prefix_sizes,
    unit_interval,
)
from solo_tricl.errors import ConfigError
from solo_tricl.losses import defaults

PROJECTOR = {
    "proj_hidden_dim": Option(REQUIRED, positive_int, "width of the projector's hidden layer"),
    "proj_output_dim": Option(REQUIRED, positive_int, "k, the projector output dimension"),
}

TRICL = {
    **PROJECTOR,
    "temperature": TEMPERATURE,
    "decorrelation": DECORRELATION,
    "decorrelation_weight": DECORRELATION_WEIGHT,
    "anchors": Option(defaults.ANCHORS, choice(defaults.ANCHOR_SCALING), "diag(s) on every anchor or view 1 only"),
    "variant": Option("infonce", choice(("infonce", "spectral")), "triCL or tri-SCL"),
    "importance_init_std": IMPORTANCE_INIT_STD,
    "importance_lr": Option(None, optional(positive), "lr of theta (default: optimizer.lr)"),
    "nesting": Option(
        None,
        optional(prefix_sizes),
        "prefix sizes m of the features sorted by s, each also trained on its own (infonce only); null: none",
    ),
    "nesting_weight": Option(1.0, non_negative, "weight of the mean of the prefix terms", float),
}

NCL = {
    **PROJECTOR,
    "temperature": TEMPERATURE,
    "non_neg": NON_NEG,
}

MRL = {
    **PROJECTOR,
    "temperature": TEMPERATURE,
    "nesting": NESTING,
    "smallest_prefix": SMALLEST_PREFIX,
    "reduction": REDUCTION,
}

KERNEL = {
    **PROJECTOR,
    "gamma": GAMMA,
    "tau1": Option(defaults.TAU1, positive, "temperature of the gamma kernel"),
    "tau2": Option(defaults.TAU2, positive, "temperature of the Gaussian kernel (mixtures only)"),
    "lam": Option(defaults.LAM, unit_interval, "weight of the gamma-kernel term (mixtures only)"),
    "mixture": Option(defaults.MIXTURE, choice(("none",) + defaults.MIXTURES), "none, sum or concat"),
    "temperature": Option(
        None,
        optional(positive),
        "SimCLR's temperature t, as in a SimCLR config: sets the Gaussian kernel's tau2 = 2t "
        "(tau1 = 2t with mixture none), where the kernel equals SimCLR at t",
    ),
}


def simclr_temperature_to_kernel(cfg: DictConfig, given: Iterable[str]) -> Optional[str]:
    """Turn a validated kernel ``method_kwargs.temperature`` (SimCLR's scale) into the kernel
    temperature it matches, and return the line that says so (None when there is nothing to do).

    exp(-||a - b||^2 / tau) = exp((2 a.b - 2) / tau) on unit vectors, so the Gaussian kernel at
    tau = 2t gives SimCLR's softmax at t. The term it sets is the Gaussian one (tau2) of a
    mixture, or the only term (tau1) with ``mixture: none`` (equal to SimCLR for gamma 2 only).
    Setting that tau as well (a key in ``given``, the keys the config holds) to another value is
    an error; to the same value it is what this function wrote before. So it decides the same
    settings from a config as from the ``args.json`` a run saved after it (which holds both):
    training and reloading a run both call it, through the method's ``add_and_assert_specific_cfg``.
    """
    kwargs = cfg.method_kwargs
    if kwargs.temperature is None:
        return None
    target = "tau1" if kwargs.mixture == "none" else "tau2"
    matching = 2 * kwargs.temperature
    if target in given:
        if kwargs[target] is not None and math.isclose(kwargs[target], matching, rel_tol=1e-9):
            return None
        raise ConfigError(
            f"method_kwargs.temperature={kwargs.temperature} sets method_kwargs.{target}={matching} for mixture "
            f"{kwargs.mixture}, and method_kwargs.{target}={kwargs[target]} is given too; give one of them"
        )
    kwargs[target] = matching
    return (
        f"kernel: method_kwargs.temperature={kwargs.temperature} is SimCLR's temperature; it sets "
        f"{target}={kwargs[target]} (the Gaussian kernel at 2t equals SimCLR at t)"
    )


def validate_method_kwargs(cfg: DictConfig, options: Dict[str, Option]) -> DictConfig:
    """Fill defaults into ``cfg.method_kwargs`` and check every key; raise :class:`ConfigError`.

    Unknown keys are errors too: a typo must not silently fall back to a default.
    """
    kwargs = cfg.method_kwargs
    unknown = sorted(set(kwargs.keys()) - set(options))
    if unknown:
        raise ConfigError(
            f"method_kwargs.{unknown[0]} is not an option of method {cfg.method!r}; allowed: {', '.join(options)}"
        )
    for name, option in options.items():
        key = f"method_kwargs.{name}"
        if name not in kwargs or OmegaConf.is_missing(kwargs, name):
            if option.default is REQUIRED:
                raise ConfigError(f"{key} is required ({option.help})")
            kwargs[name] = option.default
        try:
            kwargs[name] = option.check(key, kwargs[name])
        except ConfigError:
            raise
        except ValueError as error:
            raise ConfigError(str(error)) from None
    return cfg


def require_even_output_for_concat(cfg: DictConfig) -> None:
    kwargs = cfg.method_kwargs
    if kwargs.mixture == "concat" and kwargs.proj_output_dim % 2:
        raise ConfigError(
            f"method_kwargs.proj_output_dim must be even for mixture concat, got {kwargs.proj_output_dim}"
        )


__all__ = [
    "ConfigError",
    "KERNEL",
    "MRL",
    "NCL",
    "TRICL",
    "require_even_output_for_concat",
    "simclr_temperature_to_kernel",
    "validate_method_kwargs",
]
