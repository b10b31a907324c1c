"""The losses' defaults and allowed values, in one table that imports nothing.

The loss constructors take their default arguments from here, and so do solo-learn's
``method_kwargs`` and ``clip-train``'s flags (:mod:`solo_tricl.common.options`): one definition of
each, which ``solo-tricl --help`` can read without importing torch.
"""

TEMPERATURE = 0.2  # tau of every InfoNCE-style loss (SimCLR's CIFAR value)
EPS = 1e-6  # added to D^2 before fractional powers (kernel losses)

# triCL
IMPORTANCE_INIT_STD = 0.1  # theta ~ 0.1 N(0, 1), as the authors' code
# c of s = softplus(c theta) for OpenCLIP, whose Adam moves theta by about lr per step whatever
# its gradient: theta's learning rate multiplier. 30: s trains and all-feature zero-shot stays
# within a point of ClipLoss (benchmarks/results/clip_importance.md); at c = 1 s barely moves.
IMPORTANCE_SCALE = 30.0
DECORRELATION_FORMS = ("isotropic", "reference")
DECORRELATION = "isotropic"
# lambda per form when none is given, for triCL and tri-SCL alike. isotropic: the best weight of
# benchmarks/results/tricl_decorrelation_sweep.md; reference: the authors' value.
DECORRELATION_WEIGHTS = {"isotropic": 10.0, "reference": 1.0}
ANCHOR_SCALING = ("all", "view1")
ANCHORS = "all"

# NCL
NON_NEGATIVE_MAP_NAMES = ("relu", "rep_relu", "gelu", "softplus", "sigmoid", "exp", "leaky_relu")
NON_NEG = "rep_relu"

# kernel InfoNCE and kernel mixtures; the defaults scored best in benchmarks/results/kernel_sweep.md
GAMMA_RANGE = (0.0, 2.0)
GAMMA = 1.0
MIXTURES = ("sum", "concat")
MIXTURE = "sum"
LAM = 0.2
TAU1 = 0.1  # the gamma kernel's temperature, alone or in a mixture
TAU2 = 0.3  # the Gaussian kernel's, in a mixture

# Matryoshka (MRL): the default nesting is the powers of two from the smallest prefix up to k, and
# k; the per-prefix losses are summed (weights 1) or averaged. The authors' smallest prefix, 8
# (benchmarks/results/mrl_nesting.md): from 1, the 1- and 2-feature terms dominate; in CLIP form
# zero-shot fell to 0.42 against 0.79 from 8. Averaging equals summing at a learning rate divided by
# the number of prefixes under SGD, and is the same under Adam.
MRL_SMALLEST_PREFIX = 8
MRL_REDUCTIONS = ("sum", "mean")
MRL_REDUCTION = "mean"
