"""Package attributes imported on first use, so that importing a package costs only what is used:
``solo-tricl --help`` and the option tables read torch-free modules of packages whose other
modules import torch."""

import importlib
import sys
from typing import Callable, Dict, List, Tuple


def lazy_attributes(package: str, modules: Dict[str, str]) -> Tuple[Callable, Callable]:
    """(``__getattr__``, ``__dir__``) for ``package``, which serve ``name`` from
    ``package.<modules[name]>`` when first asked for (PEP 562)."""

    def getattr_(name: str):
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{modules[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> List[str]:
        return sorted(set(vars(sys.modules[package])) | set(modules))

    return getattr_, dir_
