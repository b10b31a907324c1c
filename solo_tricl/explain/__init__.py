"""COCOA: contrastive corpus attribution for any image encoder.

Lin, Covert and Lee, "Contrastive Corpus Attribution for Explaining Representations", ICLR 2023.
The explained scalar is the contrastive corpus similarity of an input (its similarity to a
corpus minus its similarity to a foil); any attribution method then applies: captum's
IntegratedGradients and GradientShap, and the batched :class:`RISE` here.
"""

import importlib

# name -> the module that defines it, imported on first use (the CLI's options need no torch)
_MODULES = {
    "ContrastiveCorpusSimilarity": "target",
    "LabelFreeSimilarity": "target",
    "RISE": "rise",
    "corpus_and_foil_indices": "sampling",
    "gaussian_blur": "baselines",
    "generate_masks": "rise",
    "sample_disjoint": "sampling",
}


def __getattr__(name):
    if name in _MODULES:
        value = getattr(importlib.import_module(f"solo_tricl.explain.{_MODULES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'solo_tricl.explain' has no attribute {name!r}")


__all__ = [
    "ContrastiveCorpusSimilarity",
    "LabelFreeSimilarity",
    "RISE",
    "corpus_and_foil_indices",
    "gaussian_blur",
    "generate_masks",
    "sample_disjoint",
]
