"""What both hosts' training runs share to end honestly: the stop signals, recorded instead of
killing the process, and the check for non-finite parameters."""

import contextlib
import signal
from typing import Iterator, Optional

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


def first_non_finite(module: torch.nn.Module) -> Optional[str]:
    """The name of the first parameter of ``module`` holding NaN or Inf, or of the first buffer
    holding NaN (buffers may hold -Inf by design: attention masks), or None."""
    for name, parameter in module.named_parameters():
        if not bool(torch.isfinite(parameter).all()):
            return name
    for name, buffer in module.named_buffers():
        if buffer.is_floating_point() and bool(torch.isnan(buffer).any()):
            return name
    return None
