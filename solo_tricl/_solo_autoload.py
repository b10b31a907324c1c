"""Adds the ``solo.methods`` entry points to solo-learn's ``METHODS`` when solo-learn loads it.

A ``.pth`` file installed with this package imports this module at every interpreter start, so
that solo-learn's own, unmodified ``main_pretrain.py`` accepts ``method=tricl``. It must cost
nothing measurable there: standard library only, and nothing runs until ``solo.methods`` is
imported. Even then the entry points are loaded at the first lookup in ``METHODS``, not at
import: a plugin module that itself imports ``solo.methods`` would otherwise be re-entered
half-initialised.
"""

import sys
import warnings

TARGET_MODULE = "solo.methods"


class LazyMethods(dict):
    """solo-learn's ``METHODS`` dict; the first lookup adds the entry-point methods."""

    _state = "pending"  # -> "loading" -> "done"

    def _load(self) -> None:
        if self._state != "pending":
            return
        self._state = "loading"
        try:
            from solo_tricl.solo.registry import add_entry_points

            add_entry_points(self)
        except Exception as error:  # never break solo-learn's own methods
            warnings.warn(f"solo-tricl: could not register solo.methods plugins: {error}")
        finally:
            self._state = "done"

    def __contains__(self, key):
        self._load()
        return super().__contains__(key)

    def __getitem__(self, key):
        self._load()
        return super().__getitem__(key)

    def __iter__(self):
        self._load()
        return super().__iter__()

    def __len__(self):
        self._load()
        return super().__len__()

    def __repr__(self):
        self._load()
        return super().__repr__()

    def get(self, key, default=None):
        self._load()
        return super().get(key, default)

    def keys(self):
        self._load()
        return super().keys()

    def values(self):
        self._load()
        return super().values()

    def items(self):
        self._load()
        return super().items()


class SoloMethodsFinder:
    """A meta-path finder that defers to the other finders for ``solo.methods`` and wraps the
    found loader's ``exec_module`` to swap in :class:`LazyMethods` after the module ran."""

    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module):
            run_module(module)
            methods = getattr(module, "METHODS", None)
            if type(methods) is dict:
                module.METHODS = LazyMethods(methods)

        loader.exec_module = exec_module
        return spec


def install() -> None:
    if not any(isinstance(finder, SoloMethodsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, SoloMethodsFinder())


install()
