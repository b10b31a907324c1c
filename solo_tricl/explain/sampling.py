"""Corpus and foil sampling as in the COCOA paper: the corpus is a sample of one class, the foil
a random data sample (which may hold that class too) disjoint from the corpus."""

import random
from typing import List, Sequence, Tuple, TypeVar

import torch

from solo_tricl.errors import BadInput

Item = TypeVar("Item")


def sample_disjoint(
    corpus_candidates: Sequence[Item],
    foil_candidates: Sequence[Item],
    corpus_size: int = 100,
    foil_size: int = 1500,
    seed: int = 0,
) -> Tuple[List[Item], List[Item]]:
    """Up to ``corpus_size`` random corpus items and ``foil_size`` random foil items, none of
    which is in the corpus. Raises ValueError for empty or non-positive requests."""
    if corpus_size < 1 or foil_size < 1:
        raise BadInput(f"corpus_size and foil_size must be >= 1, got {corpus_size} and {foil_size}")
    if not corpus_candidates:
        raise BadInput("the corpus is empty: no candidates to sample from")
    rng = random.Random(seed)
    corpus = rng.sample(list(corpus_candidates), min(corpus_size, len(corpus_candidates)))
    taken = set(corpus)
    remaining = [item for item in foil_candidates if item not in taken]
    if not remaining:
        raise BadInput("the foil is empty: every foil candidate is in the corpus")
    foil = rng.sample(remaining, min(foil_size, len(remaining)))
    return sorted(corpus), sorted(foil)


def corpus_and_foil_indices(
    labels: torch.Tensor, corpus_class: int, corpus_size: int = 100, foil_size: int = 1500, seed: int = 0
) -> Tuple[List[int], List[int]]:
    """Indices into a labelled dataset: a corpus of ``corpus_class`` and a disjoint random foil."""
    labels = torch.as_tensor(labels)
    candidates = torch.nonzero(labels == corpus_class).flatten().tolist()
    return sample_disjoint(candidates, range(len(labels)), corpus_size, foil_size, seed)
