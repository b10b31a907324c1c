"""Every threshold a measure uses and every target a result is judged against, in one table that
imports nothing: the measures, the reports and the commands' ``--help`` read them from here.
"""

from dataclasses import dataclass

# --- thresholds of the measures -------------------------------------------------------------
ZERO = 1e-5  # an entry with |zhat| below this counts as zero (sparsity)
ACTIVE = 0.1  # a sample activates a dimension when |zhat_j| exceeds this (class consistency)
# Features count as collapsed when most pairs of dimensions move together: a mean |corr| above
# this (seen at 0.94 after one epoch) makes identifiability scores meaningless.
COLLAPSED_MEAN_ABS_CORR = 0.8
# A canonical feature whose lambda exceeds this is identifiable on its own. Measured on the bench
# (benchmarks/results/bench.md, "Identifiable rank"): canonical features above it match their
# counterpart in another run at mean |corr| 0.95; below it, neighbouring eigenvalues come too
# close for their eigenvectors to be pinned down.
IDENTIFIABLE_LAMBDA = 0.8
IDENTIFIABILITY_PREFIXES = (8, 16)  # identifiability is averaged over these top ranks, and all
KNN_NEIGHBOURS, KNN_TEMPERATURE = 20, 0.07  # solo-learn's kNN (solo/utils/knn.py)
# kNN on one feature is degenerate: the cosine similarity of two 1-d vectors is +-1, so every
# neighbour with the same sign ties and the vote is a coin flip between two classes.
KNN_MIN_FEATURES = 2
RANDOM_DRAWS = 3  # "k random features" is the mean over this many seeded draws


# --- targets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A promise of a method, as a comparison of one measured value with a threshold."""

    text: str  # what is compared, e.g. "triCL's top-4 by s minus 4 random triCL features"
    threshold: float
    at_least: bool = True  # met when value >= threshold; else when value <= threshold
    unit: str = ""  # "points": the value is a difference of accuracies, shown x 100

    def met(self, value: float) -> bool:
        return value >= self.threshold if self.at_least else value <= self.threshold

    def describe(self) -> str:
        threshold = f"{100 * self.threshold:+.0f} points" if self.unit == "points" else f"{self.threshold:g}"
        return f"{'>=' if self.at_least else '<='} {threshold}"


TARGETS = {
    "tricl_top4_over_random": Target("triCL's top-4 by s minus 4 random triCL features", 0.15, unit="points"),
    "tricl_top8_over_random": Target("triCL's top-8 by s minus 8 random triCL features", 0.10, unit="points"),
    "tricl_all_vs_simclr": Target("triCL's all-feature linear probe minus SimCLR's", -0.01, unit="points"),
    "tricl_corr_vs_simclr": Target("triCL's mean |corr| minus SimCLR's", 0.0, at_least=False),
    "tricl_identifiability_own_top8": Target("triCL's top-8 identifiability in its own order", 0.6),
    "simclr_identifiability_own_top8": Target("SimCLR's top-8 identifiability in its own order", 0.3, at_least=False),
    "tricl_identifiability_canonical_top8": Target("triCL's top-8 identifiability in the canonical basis", 0.9),
    "tricl_identifiability_canonical_top16": Target("triCL's top-16 identifiability in the canonical basis", 0.8),
    "triscl_backbone_vs_simclr": Target("tri-SCL's backbone linear probe minus SimCLR's", -0.02, unit="points"),
    "kernel_backbone_vs_simclr": Target(
        "the kernel mixture's backbone linear probe minus SimCLR's", 0.0, unit="points"
    ),
    "ncl_sparsity": Target("NCL's sparsity", 0.9),
    "ncl_consistency_over_simclr": Target("NCL's class consistency over SimCLR's (ratio)", 2.0),
    "clip_tricl_top8_over_random": Target(
        "CLIP triCL's top-8 by s minus 8 random features, linear probe", 0.10, unit="points"
    ),
    "clip_tricl_zero_shot_top8_vs_best": Target(
        "CLIP triCL's zero-shot with its top 8 minus the best top 8 of ClipLoss and SigLIP in any order",
        0.0,
        unit="points",
    ),
    "clip_tricl_zero_shot_vs_clip": Target(
        "CLIP triCL's zero-shot on all features minus ClipLoss's", -0.01, unit="points"
    ),
}
