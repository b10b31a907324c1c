"""COCOA: contrastive corpus attribution for any image encoder.

Lin, Covert and Lee, "Contrastive Corpus Attribution for Explaining Representations", ICLR 2023.
The explained scalar is the contrastive corpus similarity of an input (its similarity to a
corpus minus its similarity to a foil); any attribution method then applies: captum's
IntegratedGradients and GradientShap, and the batched :class:`RISE` here.
"""

from solo_tricl.explain.baselines import gaussian_blur
from solo_tricl.explain.rise import RISE, generate_masks
from solo_tricl.explain.sampling import corpus_and_foil_indices, sample_disjoint
from solo_tricl.explain.target import ContrastiveCorpusSimilarity, LabelFreeSimilarity

__all__ = [
    "ContrastiveCorpusSimilarity",
    "LabelFreeSimilarity",
    "RISE",
    "corpus_and_foil_indices",
    "gaussian_blur",
    "generate_masks",
    "sample_disjoint",
]
