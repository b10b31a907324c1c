"""The hosts' own checks of a solo-learn config, run once before anything is built or written,
each refusal reported as one :class:`~solo_tricl.errors.ConfigError`.

* :func:`parse_once`: solo-learn's ``parse_cfg`` and the method's ``add_and_assert_specific_cfg``
  (LinearModel's for a linear run), once, on the run's own config, which the run then uses. Their
  ``assert`` statements become one line quoting the assertion with the config values it reads;
  every key they read is recorded, so that a key the user adds can be told apart from one nothing
  reads.
* :func:`check_optimizer`: the optimizer solo-learn would build, built on one stand-in parameter
  with the config's settings, so that torch and solo-learn's LARS check them now rather than
  once training has started.
* :func:`check_augmentations`: solo-learn's transform pipeline of every augmentation, built.
* :func:`check_trainer`: a Lightning Trainer with the config's arguments, built and dropped.

Only the errors those checks raise on purpose are turned into one line (assertions, OmegaConf's
missing or invalid keys, a constructor's ``ValueError``/``TypeError``); anything else propagates.
"""

import contextlib
import inspect
import io
import linecache
import logging
import re
import traceback
import warnings
from pathlib import Path
from typing import Iterator, Set, Tuple

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from solo_tricl.errors import ConfigError


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Nothing the hosts print, log or warn while they are only being consulted reaches the terminal."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def keys_read() -> Iterator[Set[str]]:
    """The dotted keys solo-learn looks up with ``OmegaConf.select`` (through its
    ``omegaconf_select``, which fills a default when a key is absent) while the block runs."""
    seen: Set[str] = set()
    select = OmegaConf.select

    def recording(cfg, key, *args, **kwargs):
        seen.add(key)
        return select(cfg, key, *args, **kwargs)

    OmegaConf.select = recording
    try:
        yield seen
    finally:
        OmegaConf.select = select


def _failing_frame(error: BaseException):
    frames = list(traceback.walk_tb(error.__traceback__))
    return frames[-1][0] if frames else None


def assertion_text(error: AssertionError) -> str:
    """The failing ``assert`` of a host as one line: its message, or its source with the config
    values it reads (``cfg.backbone.name`` -> ``backbone.name='resnet181'``) and, for ``x in
    REGISTRY``, the registry's names."""
    frame = _failing_frame(error)
    summary = traceback.extract_tb(error.__traceback__)[-1]
    source = (summary.line or linecache.getline(summary.filename, summary.lineno)).strip()
    where = f"({Path(summary.filename).name}:{summary.lineno})"
    if str(error):
        return f"{error} {where}"
    namespace = {**frame.f_globals, **frame.f_locals} if frame is not None else {}
    details = []
    cfg = namespace.get("cfg")
    for key in dict.fromkeys(re.findall(r"\bcfg\.([A-Za-z_][\w.]*)", source)):
        if isinstance(cfg, (DictConfig, ListConfig)):
            details.append(f"{key}={OmegaConf.select(cfg, key, default=None)!r}")
    membership = re.search(r"\bin\s+([A-Za-z_][\w.]*)\s*$", source.removeprefix("assert").split(",")[0].strip())
    if membership:
        registry = _resolve(membership.group(1), namespace)
        if isinstance(registry, (dict, list, tuple, set)):
            details.append(f"allowed: {', '.join(map(str, registry))}")
    return " ".join([source, where, *(["with " + "; ".join(details)] if details else [])])


def _resolve(dotted: str, namespace: dict):
    """``dotted`` looked up attribute by attribute in ``namespace`` (no code is evaluated)."""
    head, *rest = dotted.split(".")
    value = namespace.get(head)
    for name in rest:
        value = getattr(value, name, None)
    return value


@contextlib.contextmanager
def host_speaks(what: str = "solo-learn") -> Iterator[None]:
    """A host's own refusal of the config (a failed ``assert``, a missing or invalid key) as one
    ConfigError; anything else propagates."""
    try:
        yield
    except AssertionError as error:
        raise ConfigError(f"{what} refuses this config: {assertion_text(error)}") from None
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None)
        message = " ".join(str(error).split("\n")[0].split())
        raise ConfigError(f"{what} cannot read this config{f' at {key}' if key else ''}: {message}") from None


def model_class(kind: str, method: str):
    """The class whose ``add_and_assert_specific_cfg`` completes this config."""
    if kind == "linear":
        from solo.methods.linear import LinearModel

        return LinearModel
    from solo.methods import METHODS

    return METHODS[method]


def parse_once(kind: str, cfg: DictConfig) -> Tuple[DictConfig, Set[str]]:
    """``cfg`` completed by solo-learn, in place: its ``parse_cfg`` (with the learning-rate scaling
    fixed for a device count, :func:`~solo_tricl.solo.trainer.parse_cfg_with_device_count`) and
    the model's ``add_and_assert_specific_cfg``. Returns it and the keys they read."""
    from solo_tricl.solo.trainer import parse_cfg_with_device_count

    if kind == "pretrain":
        from solo.args.pretrain import parse_cfg
    else:
        from solo.args.linear import parse_cfg
    OmegaConf.set_struct(cfg, False)
    with keys_read() as read, host_speaks():
        parsed = parse_cfg_with_device_count(parse_cfg, cfg)
        parsed = model_class(kind, parsed.get("method")).add_and_assert_specific_cfg(parsed)
    return parsed, read


def check_optimizer(parsed: DictConfig) -> None:
    """The optimizer solo-learn builds for this config, built on one stand-in parameter: its own
    checks of the learning rate, weight decay and keyword arguments, now."""
    import torch
    from solo.methods.base import BaseMethod

    name = parsed.optimizer.name
    optimizer = BaseMethod._OPTIMIZERS[name]
    kwargs = OmegaConf.to_container(parsed.optimizer.get("kwargs") or {}, resolve=True)
    accepted = set(inspect.signature(optimizer.__init__).parameters) - {"self", "params", "lr", "weight_decay"}
    for key in kwargs:
        if key not in accepted:
            raise ConfigError(
                f"optimizer.kwargs.{key} is not an argument of {name} "
                f"({optimizer.__module__}.{optimizer.__name__}); it takes: {', '.join(sorted(accepted))}"
            )
    try:
        optimizer(
            [torch.nn.Parameter(torch.zeros(1))],
            lr=parsed.optimizer.lr,
            weight_decay=parsed.optimizer.weight_decay,
            **kwargs,
        )
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"optimizer {name} refuses optimizer.lr={parsed.optimizer.lr!r} (after solo-learn's batch-size "
            f"scaling), optimizer.weight_decay={parsed.optimizer.weight_decay!r} or optimizer.kwargs "
            f"{kwargs}: {' '.join(str(error).split())}"
        ) from None


def check_augmentations(parsed: DictConfig) -> None:
    """solo-learn's transform pipeline of every entry of ``augmentations``, built: torchvision's
    own checks of its values."""
    from solo.data.pretrain_dataloader import build_transform_pipeline

    for index, augmentation in enumerate(parsed.augmentations):
        try:
            with quiet(), host_speaks():
                build_transform_pipeline(parsed.data.dataset, augmentation)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"solo-learn's augmentations refuse augmentations.{index}: {' '.join(str(error).split())}"
            ) from None


def check_trainer(parsed: DictConfig) -> None:
    """Lightning's own checks of the accelerator, devices, precision, strategy and every other
    Trainer argument in the config, by building (and dropping) a Trainer with them."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from lightning.pytorch import Trainer

    from solo_tricl.solo.trainer import trainer_arguments

    arguments = trainer_arguments(parsed)
    arguments.update(
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[]
    )
    named = ", ".join(
        f"{k}={arguments[k]}" for k in ("accelerator", "devices", "precision", "strategy") if k in arguments
    )
    with quiet():
        try:
            Trainer(**arguments)
        except (MisconfigurationException, ValueError, TypeError, RuntimeError) as error:
            message = " ".join(str(error).split())
            raise ConfigError(f"Lightning refuses the trainer settings ({named}): {message}") from None
