"""OpenCLIP adapters: triCL, NCL and kernel losses for ``open_clip_train``, without a fork.

Importing this package does not import OpenCLIP; the modules that need it import it.
"""
