"""Pre-flight checks of a solo-learn run: everything the run reads, checked before any model is
built or file written, each failure one :class:`~solo_tricl.errors.ConfigError` naming the key.

The hosts check what they own, through :mod:`solo_tricl.solo.host_checks`: solo-learn's
``parse_cfg`` and the method's own checks (run once, on the run's config, which the run then
uses), the optimizer, the augmentations and Lightning's Trainer, built with the config's values.
solo-tricl checks what no host checks before training starts:

* types: an override must have the type the config file gives that key (``max_epochs=abc``);
* names against solo-learn's registries, which it reads only once training has started
  (``METHODS``, ``BaseMethod._BACKBONES``, ``_OPTIMIZERS``, ``_SCHEDULERS``, its datasets);
* keys nothing reads (``+foo=1``: no host reads it) and keys solo-learn overwrites
  (``+data.num_small_crops=3``, which it derives from the augmentations) are refused instead of
  being silently ignored;
* ranges no host checks (:data:`RANGES`; every other number finite and >= 0);
* the data: folders, the same classes in train and val, readable images, at least one batch;
* files: a resume checkpoint (readable, a Lightning checkpoint of the same method), the
  pretrained feature extractor, writable output folders.
"""

import fnmatch
import inspect
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Set, Tuple

from omegaconf import DictConfig, ListConfig, OmegaConf

from solo_tricl.errors import ConfigError

ABSENT = object()


def leaves(cfg) -> Dict[str, Any]:
    """``{dotted key: value}`` of every leaf; items of a list of mappings (``augmentations``) are
    keyed by index (``augmentations.0.crop_size``), lists of scalars are leaves."""
    container = (
        OmegaConf.to_container(cfg, resolve=False, throw_on_missing=False)
        if isinstance(cfg, (DictConfig, ListConfig))
        else cfg
    )
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)
        else:
            flat[prefix] = value

    walk("", container)
    return flat


# --- overrides -------------------------------------------------------------------------------------


def parsed_overrides(overrides: List[str]):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(overrides))


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, ListConfig)):
        return "a list"
    return "a mapping"


def same_type(value, reference) -> bool:
    """``value`` may stand where the config file has ``reference``: an int for a float, anything
    for null or ???, otherwise the same kind (a bool is not a number)."""
    if reference is None or reference == "???":
        return True
    if isinstance(reference, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(reference, bool)
    if isinstance(reference, (int, float)):
        return isinstance(value, (int, float))  # whole numbers: see RANGES
    for kind in (str, (list, ListConfig), (dict, DictConfig)):
        if isinstance(reference, kind):
            return isinstance(value, kind)
    return True


# devices: a string ("1") or a list of device ids; precision: Lightning's names ("bf16-mixed") or numbers
ALSO_ACCEPTED = {"devices": (str, list, ListConfig), "precision": (str, int)}


def check_override_types(reference: DictConfig, cfg: DictConfig, overrides: List[str]) -> None:
    """Every overridden key must keep the type it has in the config file (ints for floats allowed)."""
    reference_leaves, cfg_leaves = leaves(reference), leaves(cfg)
    for override in parsed_overrides(overrides):
        if override.is_delete():
            continue
        key = override.key_or_group
        for leaf, value in cfg_leaves.items():
            if leaf != key and not leaf.startswith(key + "."):
                continue
            expected = reference_leaves.get(leaf, ABSENT)
            if expected is ABSENT or same_type(value, expected) or isinstance(value, ALSO_ACCEPTED.get(leaf, ())):
                continue
            kinds = " or ".join(
                [_type_name(expected)]
                + [_type_name(kind()) for kind in ALSO_ACCEPTED.get(leaf, ())[:1] if not isinstance(expected, kind)]
            )
            quoted = (
                f" (quote it: {leaf}=\"'{value}'\")" if isinstance(expected, str) and leaf not in ALSO_ACCEPTED else ""
            )
            raise ConfigError(f"{leaf} must be {kinds}, as in the config file ({expected!r}); got {value!r}{quoted}")


# keys solo-tricl's pretrain and linear read beyond solo-learn's
OWN_KEYS = {
    "pretrain": ("data_order_seed", "seed", "resume_from_checkpoint"),
    "linear": ("seed", "resume_from_checkpoint"),
}
# mappings whose keys are handed on as keyword arguments (checked elsewhere, or by their receiver)
OPEN_MAPPINGS = ("backbone.kwargs", "optimizer.kwargs", "method_kwargs")


def check_added_keys(kind: str, reference: DictConfig, read: Set[str], overrides: List[str]) -> None:
    """A key the user adds (``+key=value``) must be one the run reads: the config file's, one the
    hosts read (``read``, recorded as they parsed this config), a Trainer argument or solo-tricl's
    own; anything else would be ignored."""
    from lightning.pytorch import Trainer

    trainer = set(inspect.signature(Trainer.__init__).parameters) - {"self"}
    known = set(leaves(reference)) | set(read) | trainer | set(OWN_KEYS[kind])
    for override in parsed_overrides(overrides):
        key = override.key_or_group
        if not (override.is_add() or override.is_force_add()) or key in known:
            continue
        if any(key.startswith(prefix + ".") for prefix in OPEN_MAPPINGS):
            continue
        if any(known_key.startswith(key + ".") for known_key in known):
            continue
        raise ConfigError(
            f"{key} is not a key solo-learn or solo-tricl reads: it would be ignored "
            f"(keys added with + are limited to those; e.g. {', '.join(OWN_KEYS[kind])})"
        )


def check_overwritten_keys(before: Dict[str, Any], parsed: DictConfig, overrides: List[str]) -> None:
    """A key the user sets that solo-learn's ``parse_cfg`` then replaced (``before``: the config's
    leaves before it) would be silently ignored: refuse it. Learning rates are exempt: solo-learn
    scales them by the batch size on purpose."""
    after = leaves(parsed)
    for override in parsed_overrides(overrides):
        key = override.key_or_group
        if override.is_delete() or key.endswith("lr") or key not in before:
            continue
        if after.get(key, ABSENT) != before[key]:
            raise ConfigError(
                f"{key}={before[key]!r} would be ignored: solo-learn sets it to "
                f"{after.get(key)!r} from the rest of the config "
                + ("(the augmentations' crop sizes and num_crops)" if "crops" in key else "")
            )


# --- values ----------------------------------------------------------------------------------------


def _count(low: int = 1):
    return lambda value: value >= low and float(value).is_integer(), f"a whole number >= {low}"


def _unit_interval():
    return lambda value: 0 <= value <= 1, "in [0, 1]"


# Ranges no host checks before training (first match wins): solo-learn and torchvision take a
# probability above 1 or a crop scale above 1 silently, the data loader checks its batch size and
# workers only once it is built, a projector's width only when the model is, solo-learn's
# schedules need a finite max_epochs (Lightning would take -1 as "forever"), and its momentum
# updates a momentum below 1. Every other number must be finite and >= 0: no key of solo-learn's
# configs takes a negative value but data.fraction's -1. The hosts own the rest (the optimizer's lr,
# weight decay and momentum >= 0, ColorJitter's values, num_nodes, precision...): host_checks.py.
RANGES: Dict[str, Tuple[Callable[[float], bool], str]] = {
    "data.fraction": (lambda value: value == -1 or 0 < value < 1, "-1 (every image) or in (0, 1)"),
    "max_epochs": _count(),
    "optimizer.batch_size": _count(),
    "optimizer.kwargs.momentum": (lambda value: 0 <= value < 1, "in [0, 1)"),
    "method_kwargs.proj_*_dim": _count(),
    "checkpoint.frequency": _count(),
    "accumulate_grad_batches": _count(),
    "*.crop_size": _count(),
    "augmentations.*.num_crops": _count(),
    "data.num_workers": _count(0),
    "seed": _count(0),
    "data_order_seed": _count(0),
    "*.prob": _unit_interval(),
    "*.crop_min_scale": (lambda value: 0 < value <= 1, "in (0, 1]"),
    "*.crop_max_scale": (lambda value: 0 < value <= 1, "in (0, 1]"),
}


def check_devices(cfg: DictConfig) -> None:
    """``devices`` as solo-learn and Lightning can both read it: a list of device ids, or a
    string holding a count ("1", "2"; see :func:`solo_tricl.solo.trainer.parse_cfg_with_device_count`).
    An int breaks solo-learn's ``len(devices)``; "auto" or "0,1" would scale the lr by 4 or 3."""
    devices = cfg.get("devices", "1")
    if isinstance(devices, str) and not (devices.isdigit() and int(devices) > 0):
        raise ConfigError(
            f"devices={devices!r}: give a count as a string (devices='\"2\"') or a list of "
            "device ids (devices=[0,1]); solo-learn scales the learning rate by len(devices)"
        )


def check_values(cfg: DictConfig, skip: Tuple[str, ...] = ()) -> None:
    """Every number finite and in range (:data:`RANGES`, else >= 0); crop scales ordered. Keys
    under ``skip`` are left to their own validation."""
    values = {
        key: value for key, value in leaves(cfg).items() if not any(key.startswith(prefix + ".") for prefix in skip)
    }
    for key, value in values.items():
        numbers = value if isinstance(value, list) else [value]
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                continue
            test, allowed = next(
                ((test, allowed) for pattern, (test, allowed) in RANGES.items() if fnmatch.fnmatchcase(key, pattern)),
                (lambda v: v >= 0, ">= 0"),
            )
            if not (math.isfinite(number) and test(number)):
                raise ConfigError(f"{key} must be finite and {allowed}; got {value!r}")
    for key, value in values.items():
        if key.endswith(".crop_min_scale"):
            high = values.get(key.replace("crop_min_scale", "crop_max_scale"), 1.0)
            if isinstance(high, (int, float)) and value > high:
                raise ConfigError(f"{key}={value} is above {key.replace('min', 'max')}={high}")


def require_choice(key: str, value, allowed) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not one of solo-learn's; allowed: {', '.join(map(str, allowed))}")


def check_registries(cfg: DictConfig, kind: str) -> None:
    """Names against solo-learn's own registries, and optimizer.kwargs against the optimizer."""
    from solo.methods.base import BaseMethod

    if kind == "pretrain":
        from solo.args.pretrain import _SUPPORTED_DATASETS
        from solo.methods import METHODS

        # METHODS also maps "base" and "linear", which are not pretraining methods
        require_choice("method", cfg.get("method"), [m for m in METHODS if m not in ("base", "linear")])
    else:
        from solo.args.linear import _SUPPORTED_DATASETS
    require_choice("backbone.name", OmegaConf.select(cfg, "backbone.name"), BaseMethod._BACKBONES)
    require_choice("data.dataset", OmegaConf.select(cfg, "data.dataset"), _SUPPORTED_DATASETS)
    require_choice(
        "data.format", OmegaConf.select(cfg, "data.format", default="image_folder"), ("image_folder", "dali", "h5")
    )
    require_choice("optimizer.name", OmegaConf.select(cfg, "optimizer.name"), BaseMethod._OPTIMIZERS)
    require_choice("scheduler.name", OmegaConf.select(cfg, "scheduler.name", default="none"), BaseMethod._SCHEDULERS)
    require_choice("scheduler.interval", OmegaConf.select(cfg, "scheduler.interval", default="step"), ("step", "epoch"))


# --- files -----------------------------------------------------------------------------------------


def require_given(cfg: DictConfig) -> None:
    """A value the config file leaves as ``???`` must be given."""
    for key, value in leaves(cfg).items():
        if value == "???":
            raise ConfigError(f"{key} is required: the config leaves it to you ({key}=...)")


DOWNLOADED_DATASETS = ("cifar10", "cifar100", "stl10")


def require_existing_paths(cfg: DictConfig) -> None:
    """Data folders and a resume checkpoint must exist: one ConfigError naming the key, the path and
    the working directory it is read from."""
    data = cfg.get("data", {})
    keys = [] if data.get("dataset") in DOWNLOADED_DATASETS else ["data.train_path"]
    if data.get("format", "image_folder") == "image_folder" and data.get("val_path") is not None:
        keys.append("data.val_path")
    for key in ("resume_from_checkpoint", "pretrained_feature_extractor"):
        if OmegaConf.select(cfg, key, default=None) is not None:
            keys.append(key)
    for key in keys:
        path = OmegaConf.select(cfg, key)
        if path is not None and not os.path.exists(str(path)):
            raise ConfigError(
                f"{key}={path} does not exist (relative paths are read from the working directory, {os.getcwd()})"
            )


def _world_size(cfg: DictConfig) -> int:
    devices = cfg.get("devices", "1")
    count = len(devices) if isinstance(devices, (str, list, ListConfig)) else int(devices)
    return max(1, count) * int(cfg.get("num_nodes", 1) or 1)


def check_image_folders(cfg: DictConfig, kind: str) -> None:
    """Class folders, the same classes in train and val, readable images, at least one batch per
    process (solo-learn drops the last incomplete batch)."""
    from solo_tricl.common.images import folder_classes, folder_items, require_readable_images

    data = cfg.data
    if data.dataset in DOWNLOADED_DATASETS or data.get("format", "image_folder") != "image_folder":
        return
    train = Path(str(data.train_path))
    no_labels = kind == "pretrain" and data.get("no_labels", False)
    items = (
        folder_items(train, key="data.train_path")
        if not no_labels
        else [(p, 0) for p in sorted(train.rglob("*")) if p.is_file()]
    )
    if not items:
        raise ConfigError(f"data.train_path={train} holds no images")
    if kind == "linear" and len(folder_classes(train)) < 5:
        raise ConfigError(
            f"data.train_path={train} has {len(folder_classes(train))} classes; solo-learn's "
            "linear evaluation reports top-5 accuracy and needs at least 5"
        )
    if data.get("val_path") is not None:
        val = Path(str(data.val_path))
        if folder_classes(val) != folder_classes(train):
            raise ConfigError(
                f"data.val_path={val} and data.train_path={train} hold different classes "
                f"({', '.join(folder_classes(val))} vs {', '.join(folder_classes(train))}): "
                "labels would not match"
            )
        require_readable_images([p for p, _ in folder_items(val, key="data.val_path")], "data.val_path")
    require_readable_images([p for p, _ in items], "data.train_path")
    fraction = data.get("fraction", -1)
    used = len(items) if fraction is None or fraction <= 0 else int(len(items) * fraction)
    per_process = used // _world_size(cfg)
    if per_process < cfg.optimizer.batch_size:
        raise ConfigError(
            f"data.train_path={train} gives {used} training images"
            + (f" (data.fraction={fraction})" if fraction and fraction > 0 else "")
            + f", {per_process} per process: fewer than one batch (optimizer.batch_size="
            f"{cfg.optimizer.batch_size}), so nothing would train"
        )


def check_resume_checkpoint(cfg: DictConfig) -> None:
    """A resume checkpoint must be a complete Lightning checkpoint of the same method."""
    from solo_tricl.common.torch_files import load_torch_file

    path = OmegaConf.select(cfg, "resume_from_checkpoint", default=None)
    if path is None:
        return
    saved = load_torch_file(path, "resume_from_checkpoint")
    if not isinstance(saved, dict) or "pytorch-lightning_version" not in saved or "state_dict" not in saved:
        raise ConfigError(f"resume_from_checkpoint={path} is not a Lightning checkpoint of a solo-learn run")
    args = Path(str(path)).parent / "args.json"
    if args.is_file():
        try:
            method = json.loads(args.read_text()).get("method")
        except ValueError:
            method = None
        if method is not None and method != cfg.get("method"):
            raise ConfigError(
                f"resume_from_checkpoint={path} is a {method!r} run; this config trains {cfg.get('method')!r}"
            )


def check_pretrained_feature_extractor(cfg: DictConfig) -> None:
    """linear's ``pretrained_feature_extractor`` must be a readable checkpoint with backbone weights."""
    from solo_tricl.common.torch_files import load_torch_file, state_dict_of

    path = OmegaConf.select(cfg, "pretrained_feature_extractor", default=None)
    if path is None:
        return
    if not str(path).endswith((".ckpt", ".pth", ".pt")):
        raise ConfigError(f"pretrained_feature_extractor={path} is not a .ckpt/.pth/.pt file")
    state = state_dict_of(load_torch_file(path, "pretrained_feature_extractor"), path)
    if not any(key.startswith("backbone.") for key in state):
        raise ConfigError(f"pretrained_feature_extractor={path} holds no backbone.* weights")


def check_outputs(cfg: DictConfig) -> None:
    from solo_tricl.common.files import require_writable_folder

    if OmegaConf.select(cfg, "checkpoint.enabled", default=False):
        require_writable_folder(str(cfg.checkpoint.dir), "checkpoint.dir")
    require_writable_folder(str(cfg.get("default_root_dir") or os.getcwd()), "default_root_dir (Lightning's logs)")


# solo-learn's rule (main_pretrain.py): only these methods take a number of large crops other than 2
MULTI_CROP_METHODS = ("wmse", "mae")


def check_crops(parsed: DictConfig) -> None:
    if parsed.data.num_large_crops != 2 and parsed.method not in MULTI_CROP_METHODS:
        raise ConfigError(
            f"the augmentations give {parsed.data.num_large_crops} large crops; method "
            f"{parsed.method!r} needs 2 (only {', '.join(MULTI_CROP_METHODS)} take other numbers)"
        )


def validates_its_options(method: str) -> bool:
    """Whether ``method`` checks its own ``method_kwargs`` (the plugin methods' ``OPTIONS``)."""
    from solo.methods import METHODS

    return getattr(METHODS.get(method), "OPTIONS", None) is not None


def check_run(kind: str, cfg: DictConfig, overrides: Sequence[str] = (), reference: DictConfig = None) -> DictConfig:
    """Every check of a run, in the order a user would fix them, with solo-learn's parsing run once:
    returns ``cfg`` as solo-learn completed it (in place), for the run to use. ``overrides`` (the
    command line's) and ``reference`` (the config file without them) enable the checks of added
    and overwritten keys."""
    from solo_tricl.solo import host_checks

    require_given(cfg)
    require_existing_paths(cfg)
    check_devices(cfg)
    check_registries(cfg, kind)
    before = leaves(cfg)
    parsed, read = host_checks.parse_once(kind, cfg)
    if overrides:
        check_overwritten_keys(before, parsed, list(overrides))
        check_added_keys(kind, reference if reference is not None else OmegaConf.create({}), read, list(overrides))
    if kind == "pretrain":
        check_crops(parsed)
        host_checks.check_augmentations(parsed)
    host_checks.check_optimizer(parsed)
    host_checks.check_trainer(parsed)
    skip = ("method_kwargs",) if kind == "pretrain" and validates_its_options(parsed.get("method")) else ()
    check_values(parsed, skip)
    check_resume_checkpoint(parsed)
    check_pretrained_feature_extractor(parsed)
    check_image_folders(parsed, kind)
    check_outputs(parsed)
    return parsed
