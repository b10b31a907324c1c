"""solo-tricl: triCL, NCL, kernel InfoNCE and COCOA for solo-learn and OpenCLIP.

Importing this package imports neither host; see ``solo_tricl.losses`` for the plain-PyTorch
losses and ``solo_tricl.solo`` / ``solo_tricl.clip`` for the host adapters.
"""

__version__ = "0.1.0"
