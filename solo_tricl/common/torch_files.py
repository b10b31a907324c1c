"""Reading files written with ``torch.save`` (checkpoints, fitted bases), safely, with one-line errors.

Files are read with torch's ``weights_only`` loader, which runs no code from the file. Beside
the weights, a host may pickle objects that loader refuses: solo-learn's checkpoints of a method
with a fixed-lr parameter group (SimSiam's predictor) hold its lr scheduler, whose ``get_lr`` is a
``functools.partial`` of a bound method. The globals the hosts write (:func:`host_globals`) are
read as inert :class:`StandIn` objects, never as the real function or class, so nothing they name
runs. A file that needs any other global is refused with one line naming it and saying how to
proceed if the file is trusted.
"""

import importlib.util
import pickle
from pathlib import Path
from typing import List, Set

from solo_tricl.errors import BadInput, InputNotFound

# containers a pickled object's state is rebuilt from; the loader only fills plain dicts
AS_DICT = ("collections.defaultdict", "builtins.dict")


def host_globals() -> Set[str]:
    """Every global the hosts write into a checkpoint beside its weights, named off their own
    registries: solo-learn pickles the lr scheduler of a method with a fixed-lr parameter group
    (``get_lr`` replaced by a ``functools.partial`` of its ``static_lr`` and the scheduler's bound
    ``get_lr``, hence ``getattr``, the scheduler and its optimizer)."""
    names = {"functools.partial", "builtins.getattr", *AS_DICT}
    if importlib.util.find_spec("solo") is not None:
        from solo.methods.base import BaseMethod, static_lr
        from solo.utils.lr_scheduler import LinearWarmupCosineAnnealingLR
        from torch.optim.lr_scheduler import MultiStepLR

        # the schedulers BaseMethod.configure_optimizers builds, and its optimizers
        built = [static_lr, LinearWarmupCosineAnnealingLR, MultiStepLR, *BaseMethod._OPTIMIZERS.values()]
        names |= {f"{item.__module__}.{item.__qualname__}" for item in built}
    return names


class StandIn:
    """What a global of :func:`host_globals` is read as: an inert record of its name and the
    arguments the file gave it. Calling it, or setting its state, runs nothing else."""

    name = "?"

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.state = args, kwargs, None

    def __call__(self, *args, **kwargs) -> "StandIn":
        return type(self)(*args, **kwargs)

    def __setstate__(self, state) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<{self.name}, not loaded>"


def _empty_dict(*args, **kwargs) -> dict:
    return {}


def stand_in(name: str):
    """What the global ``name`` is read as: a plain dict for the containers of :data:`AS_DICT`,
    else a :class:`StandIn` subclass named after it."""
    if name in AS_DICT:
        return dict if name == "builtins.dict" else _empty_dict
    return type(f"StandIn[{name}]", (StandIn,), {"name": name})


def globals_needed(path: Path) -> List[str]:
    """The globals in ``path`` that the weights-only loader does not know, with their module
    (``builtins.getattr``), read without unpickling anything; [] for a file that is no zip
    checkpoint (``torch.load`` then says what is wrong with it)."""
    import torch

    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:
        return []
    return [name if "." in name else f"builtins.{name}" for name in needed]


def load_torch_file(path, what: str = "checkpoint"):
    """``torch.load(path)`` on the CPU with the weights-only loader, the globals of
    :func:`host_globals` that the file holds read as :class:`StandIn` objects.

    Raises :class:`InputNotFound` for a missing file, and :class:`BadInput` naming ``what`` and
    the path for one torch cannot read (not torch's text, which runs to several lines and
    suggests unsafe loading), or one that needs any other global.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputNotFound(f"{what} {path} does not exist")
    needed = globals_needed(path)
    refused = sorted(set(needed) - host_globals()) if needed else []
    if refused:
        raise BadInput(
            f"{what} {path} needs the global {refused[0]}"
            + (f" (and {', '.join(refused[1:])})" if refused[1:] else "")
            + ", which solo-tricl does not load: it could run code from the file. If you trust the file, keep "
            f"only its weights: python -c \"import torch; c = torch.load('{path}', weights_only=False); "
            f"torch.save({{'state_dict': c['state_dict']}}, '{path.with_suffix('')}-weights{path.suffix}')\" "
            "and pass that file instead"
        )
    try:
        with torch.serialization.safe_globals([(stand_in(name), name) for name in needed]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except UNREADABLE as error:
        raise _unreadable(what, path, error) from None


def resume_weights_only(path) -> bool:
    """Whether Lightning may resume from ``path`` with its weights-only loader: yes unless the file
    pickles the hosts' globals beside its weights (:func:`host_globals`; any other global was
    refused when the file was checked). A run resumed from such a file needs the real objects
    (solo-learn's scheduler with its fixed-lr ``functools.partial``), so it is loaded in full, as
    solo-learn itself loads it, and a line says so."""
    needed = globals_needed(Path(path))
    if needed:
        print(
            f"resuming from {path}, which pickles solo-learn's lr scheduler beside its weights "
            f"({', '.join(needed)}): loading it in full (weights_only=False), as solo-learn does",
            flush=True,
        )
    return not needed


# what torch.load raises for a file that is not a complete torch file: a pickle it cannot read, a
# zip archive without its central directory (truncated), an empty file
UNREADABLE = (pickle.UnpicklingError, RuntimeError, EOFError)


def _unreadable(what: str, path: Path, error: Exception) -> BadInput:
    return BadInput(
        f"cannot read {what} {path}: torch.load fails on it ({type(error).__name__}); "
        "is it the right file, and complete?"
    )


def state_dict_of(saved, path, what: str = "checkpoint") -> dict:
    """The ``state_dict`` entry of a loaded checkpoint, with any DDP ``module.`` prefix removed;
    a one-line :class:`BadInput` if there is none, or if a weight or floating buffer holds NaN or
    Inf (a diverged run: every number measured on it would be meaningless)."""
    from solo_tricl.common.run_guards import non_finite_entry

    if not isinstance(saved, dict) or not isinstance(saved.get("state_dict"), dict):
        raise BadInput(f"{what} {path} holds no state_dict")
    state = {key.removeprefix("module."): value for key, value in saved["state_dict"].items()}
    found = non_finite_entry(state)
    if found is not None:
        key, kind = found
        raise BadInput(
            f"{what} {path}: {key} holds {kind} (a diverged run); nothing measured on it would mean anything"
        )
    return state
