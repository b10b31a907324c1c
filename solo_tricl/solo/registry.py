"""Loading ``solo.methods`` entry points into solo-learn's ``METHODS``.

Any installed package can add methods to solo-learn by declaring, in its metadata::

    [project.entry-points."solo.methods"]
    mymethod = "mypackage.module:MyMethod"     # a solo.methods.base.BaseMethod subclass
"""

import importlib
import importlib.metadata
import warnings
from typing import Dict, Iterable, List, Optional

from solo_tricl.errors import SoloLearnMissing

ENTRY_POINT_GROUP = "solo.methods"
SOLO_LEARN_INSTALL = (
    "pip install --no-build-isolation --no-deps "
    "'solo-learn @ git+https://github.com/vturrisi/solo-learn.git@9187ea39c2c3f43c455ab06664d2b019a9802954'"
)


def require_solo_learn():
    """Import and return ``solo.methods``, or raise :class:`SoloLearnMissing` with the fix."""
    try:
        methods = importlib.import_module("solo.methods")
    except ImportError as error:
        raise SoloLearnMissing(
            f"solo-learn is not installed ({error}). Install solo-learn main from its git "
            f"repository: {SOLO_LEARN_INSTALL} (PyPI's solo-learn 1.0.2 has another API)"
        ) from None
    if not isinstance(getattr(methods, "METHODS", None), dict):
        raise SoloLearnMissing(
            "the installed solo-learn has no solo.methods.METHODS: it is not solo-learn main "
            f"(PyPI's 1.0.2?). Reinstall it from git: {SOLO_LEARN_INSTALL}"
        )
    return methods


def method_entry_points() -> List[importlib.metadata.EntryPoint]:
    """The group's entry points, each once (duplicate dist-info folders can list one twice)."""
    seen, unique = set(), []
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (entry_point.name, entry_point.value) not in seen:
            seen.add((entry_point.name, entry_point.value))
            unique.append(entry_point)
    return unique


def load_methods(
    entry_points: Optional[Iterable[importlib.metadata.EntryPoint]] = None,
    base_class: Optional[type] = None,
) -> Dict[str, type]:
    """Load entry points into ``{name: class}``; a broken one is skipped with a warning.

    Each must be a subclass of ``base_class`` (default: ``solo.methods.base.BaseMethod``).
    """
    if base_class is None:
        from solo.methods.base import BaseMethod as base_class

    loaded = {}
    for entry_point in method_entry_points() if entry_points is None else entry_points:
        try:
            method = entry_point.load()
        except Exception as error:
            warnings.warn(
                f"solo-tricl: skipped solo.methods entry point {entry_point.name!r} "
                f"({entry_point.value}): {type(error).__name__}: {error}"
            )
            continue
        if not (isinstance(method, type) and issubclass(method, base_class)):
            warnings.warn(
                f"solo-tricl: skipped solo.methods entry point {entry_point.name!r} "
                f"({entry_point.value}): not a solo.methods.base.BaseMethod subclass"
            )
            continue
        loaded[entry_point.name] = method
    return loaded


def add_entry_points(
    methods: dict,
    entry_points: Optional[Iterable[importlib.metadata.EntryPoint]] = None,
    base_class: Optional[type] = None,
) -> Dict[str, type]:
    """Add the loaded entry-point methods to ``methods`` in place; return those added.

    A name solo-learn already uses for another class is not replaced (warning). Uses plain
    ``dict`` access so that it also fills a :class:`~solo_tricl._solo_autoload.LazyMethods`.
    """
    added = {}
    for name, method in load_methods(entry_points, base_class).items():
        existing = dict.get(methods, name)
        if existing is not None and existing is not method:
            warnings.warn(
                f"solo-tricl: solo.methods entry point {name!r} would replace "
                f"{existing.__module__}.{existing.__name__}; kept the existing method"
            )
            continue
        dict.__setitem__(methods, name, method)
        added[name] = method
    return added


def register(entry_points: Optional[Iterable[importlib.metadata.EntryPoint]] = None):
    """Add every ``solo.methods`` entry point (ours and other packages') to solo-learn.

    Mutates ``solo.methods.METHODS`` in place, so modules that already imported it (such as
    ``main_pretrain``) see the new methods. Returns ``{name: class}`` of the methods added.
    """
    return add_entry_points(require_solo_learn().METHODS, entry_points)
