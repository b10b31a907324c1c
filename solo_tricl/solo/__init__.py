"""solo-learn adapters: ``method: tricl``, ``method: ncl`` and ``method: kernel``.

Importing this package does not import solo-learn; :func:`register` and the method modules do.
"""

from solo_tricl.errors import SoloLearnMissing
from solo_tricl.solo.registry import register, require_solo_learn

__all__ = ["SoloLearnMissing", "register", "require_solo_learn"]
