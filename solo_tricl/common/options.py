"""The options of the methods, each defined once: its default (from
:mod:`solo_tricl.losses.defaults`, where the losses take theirs), its check and its help.
solo-learn reads them as ``method_kwargs.<name>``, ``solo-tricl clip-train`` as
``--<name-with-dashes>``.

Pure Python: importing it imports neither host nor torch (``--help`` stays fast).
"""

import argparse
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Sequence

from solo_tricl.errors import BadInput
from solo_tricl.losses import defaults
from solo_tricl.losses._checks import (
    require_choice,
    require_in_range,
    require_nesting,
    require_non_negative,
    require_positive,
)

REQUIRED = object()


@dataclass(frozen=True)
class Option:
    """One option: its default (or REQUIRED), a check ``(key, value) -> value`` that raises
    ``ValueError`` naming ``key``, a help line, and the type a command line parses it with."""

    default: Any
    check: Callable[[str, Any], Any]
    help: str
    type: Callable[[str], Any] = str


def positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"{key} must be an integer >= 1, got {value!r}")
    return value


def _refusing(check):
    """``check`` (one of the losses' argument checks), its ``ValueError`` raised as :class:`BadInput`:
    here it judges a value the user gave."""

    def checked(key: str, value: Any):
        try:
            return check(key, value)
        except ValueError as error:
            raise BadInput(str(error)) from None

    return checked


def _number(check):
    def checked(key: str, value: Any):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput(f"{key} must be a number, got {value!r}")
        return _refusing(check)(key, value)

    return checked


def choice(choices: Sequence[str]):
    return _refusing(lambda key, value: require_choice(key, value, choices))


def optional(check):
    return lambda key, value: None if value is None else check(key, value)


positive = _number(require_positive)
non_negative = _number(require_non_negative)
unit_interval = _number(lambda key, value: require_in_range(key, value, 0.0, 1.0))
gamma = _number(lambda key, value: require_in_range(key, value, *defaults.GAMMA_RANGE, low_open=True))


def prefix_sizes(key: str, value: Any):
    """A list of prefix sizes (integers >= 1), as Matryoshka's ``nesting``."""
    if (
        value is not None
        and not isinstance(value, (list, tuple))
        and hasattr(value, "__iter__")
        and not isinstance(value, str)
    ):
        value = list(value)  # an omegaconf ListConfig
    try:
        return list(require_nesting(value))
    except (TypeError, ValueError) as error:
        raise BadInput(f"{key}: {error}") from None


def comma_separated_ints(text: str):
    """The command-line form of a list of integers: ``1,2,4,8``."""
    try:
        return [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, e.g. 1,2,4,8; got {text!r}") from None


# shared by the solo-learn methods and the OpenCLIP losses
IMPORTANCE_INIT_STD = Option(
    defaults.IMPORTANCE_INIT_STD, non_negative, "theta ~ std * N(0, 1) at initialisation", float
)
IMPORTANCE_SCALE = Option(
    defaults.IMPORTANCE_SCALE,
    positive,
    "c of s = softplus(c theta): multiplies the learning rate of theta under Adam (OpenCLIP's schedulers "
    "give every parameter the same learning rate)",
    float,
)
DECORRELATION = Option(
    defaults.DECORRELATION,
    choice(defaults.DECORRELATION_FORMS),
    "C of mean((C - I)^2): isotropic (C = (k/N) Z^T Z, which decorrelates) or "
    "reference (the authors' C = Z^T Z / N, which is inert)",
)
DECORRELATION_WEIGHT = Option(
    None,
    optional(non_negative),
    "lambda of mean((C - I)^2); default: the form's ("
    + ", ".join(f"{form} {weight:g}" for form, weight in defaults.DECORRELATION_WEIGHTS.items())
    + "); 0 turns it off",
    float,
)
NON_NEG = Option(
    defaults.NON_NEG,
    choice(defaults.NON_NEGATIVE_MAP_NAMES),
    f"the non-negative map phi: {', '.join(defaults.NON_NEGATIVE_MAP_NAMES)}",
)
GAMMA = Option(defaults.GAMMA, gamma, "kernel exponent in (0, 2]: 1 Laplacian, 0.5 exponential", float)
TEMPERATURE = Option(defaults.TEMPERATURE, positive, "tau", float)
NESTING = Option(
    None,
    optional(prefix_sizes),
    "Matryoshka's nested prefix sizes m, each trained to work on its own; default: the smallest prefix, "
    "twice it, ... and k",
    comma_separated_ints,
)
SMALLEST_PREFIX = Option(
    defaults.MRL_SMALLEST_PREFIX,
    positive_int,
    "Matryoshka's smallest prefix when the nesting is not given: it, twice it, ... and k (Kusupati et al.: 8)",
    int,
)
REDUCTION = Option(
    defaults.MRL_REDUCTION,
    choice(defaults.MRL_REDUCTIONS),
    "how Matryoshka combines its per-prefix losses: sum (the authors', weights 1) or mean",
)


def flag(name: str) -> str:
    """The command-line spelling of an option: ``--decorrelation-weight``."""
    return "--" + name.replace("_", "-")


def check_options(values: Mapping[str, Any], options: Dict[str, Option], spell: Callable[[str], str]) -> None:
    """Check every option in ``options`` on ``values``; errors name ``spell(name)``."""
    for name, option in options.items():
        option.check(spell(name), values[name])
