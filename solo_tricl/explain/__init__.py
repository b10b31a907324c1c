"""COCOA: contrastive corpus attribution for any image encoder.

Lin, Covert and Lee, "Contrastive Corpus Attribution for Explaining Representations", ICLR 2023.
The explained scalar is the contrastive corpus similarity of an input (its similarity to a
corpus minus its similarity to a foil); any attribution method then applies: captum's
IntegratedGradients and GradientShap, and the batched :class:`RISE` here.
"""

from solo_tricl.lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes(__name__, _MODULES)

__all__ = [
    "ContrastiveCorpusSimilarity",
    "LabelFreeSimilarity",
    "RISE",
    "corpus_and_foil_indices",
    "gaussian_blur",
    "generate_masks",
    "sample_disjoint",
]
