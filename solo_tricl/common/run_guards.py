"""What both hosts' training runs share to end honestly: the stop signals, recorded instead of
killing the process, and the check for non-finite parameters and buffers."""

import contextlib
import signal
from typing import Iterator, Optional, Tuple

import torch

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Records SIGINT and SIGTERM, so that a run can stop at a batch boundary and save what can be
    resumed; a second SIGINT stops at once (KeyboardInterrupt). Use :meth:`handling` around the run.

    Subclasses may act on the first signal in :meth:`on_signal` (solo-learn's hands it to Lightning).
    """

    def __init__(self):
        self.signum: Optional[int] = None

    def requested(self) -> bool:
        return self.signum is not None

    def on_signal(self, signum: int) -> None:
        """Called once, at the first stop signal."""

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.signum = signum
        self.on_signal(signum)

    @contextlib.contextmanager
    def handling(self) -> Iterator["StopSignals"]:
        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def is_mask(name: str) -> bool:
    """Attention masks hold -Inf by design (and their name says so)."""
    return name.rsplit(".", 1)[-1].endswith("mask")


def non_finite_entry(named_tensors) -> Optional[Tuple[str, str]]:
    """``(name, "NaN" or "Inf")`` of the first floating tensor of ``named_tensors`` (name, tensor
    pairs, or a state dict) holding NaN or Inf, or None. An attention mask may hold -Inf."""
    items = named_tensors.items() if isinstance(named_tensors, dict) else named_tensors
    for name, tensor in items:
        if not torch.is_tensor(tensor) or not tensor.is_floating_point():
            continue
        if bool(torch.isnan(tensor).any()):
            return name, "NaN"
        infinite = torch.isposinf(tensor) if is_mask(name) else torch.isinf(tensor)
        if bool(infinite.any()):
            return name, "Inf"
    return None


def first_non_finite(module: torch.nn.Module) -> Optional[str]:
    """The name of the first parameter or floating buffer of ``module`` (BatchNorm's running
    statistics among them) holding NaN or Inf, or None. An attention mask may hold -Inf."""
    found = non_finite_entry(list(module.named_parameters()) + list(module.named_buffers()))
    return None if found is None else found[0]
