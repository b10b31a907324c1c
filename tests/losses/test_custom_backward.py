"""The hand-written backward passes agree with finite differences."""

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from solo_tricl.losses import decorrelation_loss
from solo_tricl.losses.kernel import kernel_logits, squared_distances


def double(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()


@pytest.mark.parametrize("with_self", [False, True])
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_kernel_logits_gradient(with_self, gamma):
    anchors, candidates = double(5, 4), double(7, 4, seed=1)
    self_cols = torch.arange(5) if with_self else None

    def logits(a, c):
        if with_self:  # the self column must hold the anchor itself, as in a real batch
            c = torch.cat([a, c[5:]])
        return kernel_logits(squared_distances(a, c, self_cols), gamma, 0.3)

    assert gradcheck(logits, (anchors, candidates))


def test_kernel_logits_gradient_through_a_tensor_temperature():
    anchors, candidates = double(4, 3), double(6, 3, seed=1)
    temperature = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    assert gradcheck(
        lambda a, c, t: kernel_logits(squared_distances(a, c), 1.0, t),
        (anchors, candidates, temperature),
    )


DECORRELATIONS = [("isotropic", True), ("reference", True), ("reference", False)]


# (rows, k): more rows than features (the k x k side) and fewer (the N x N Gram side)
SHAPES = [(9, 4), (4, 9)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form,average_rows", DECORRELATIONS)
def test_decorrelation_gradient(form, average_rows, shape):
    assert gradcheck(lambda z: decorrelation_loss(z, form, average_rows), (double(*shape),))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form,average_rows", DECORRELATIONS)
def test_decorrelation_second_derivatives(form, average_rows, shape):
    assert gradgradcheck(lambda z: decorrelation_loss(z, form, average_rows), (double(*shape),))


@pytest.mark.parametrize("n,k", [(12, 5), (5, 12)])
def test_decorrelation_hessian_vector_product_matches_plain_autograd(n, k):
    z, v = double(n, k), double(n, k, seed=1).detach()

    def plain(z):
        c = (k / n) * z.T @ z - torch.eye(k, dtype=z.dtype)
        return c.pow(2).mean()

    products = []
    for f in (decorrelation_loss, plain):
        (grad,) = torch.autograd.grad(f(z), z, create_graph=True)
        (hvp,) = torch.autograd.grad((grad * v).sum(), z)
        products.append(hvp)
    torch.testing.assert_close(products[0], products[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n,k", [(8, 64), (64, 256), (256, 1024), (1024, 2048)])
@pytest.mark.parametrize("scale", ["isotropic", "triCL reference", "tri-SCL reference"])
def test_the_gram_side_matches_the_feature_side_to_1e_6(n, k, scale):
    # fewer rows than features: the N x N Gram matrix is the cheaper side; value and gradient
    # must be those of the k x k computation, in float32 as training runs
    from solo_tricl.losses.decorrelation import _Decorrelation, _GramDecorrelation

    factor = {"isotropic": k / n, "triCL reference": 1 / n, "tri-SCL reference": 1.0}[scale]
    generator = torch.Generator().manual_seed(n)
    z = torch.nn.functional.normalize(torch.randn(n, k, generator=generator), dim=1).requires_grad_()
    values, gradients = [], []
    for function in (_Decorrelation, _GramDecorrelation):
        value = function.apply(z, factor)
        values.append(value.item())
        gradients.append(torch.autograd.grad(value, z)[0])
    assert values[1] == pytest.approx(values[0], abs=1e-6, rel=1e-6)
    torch.testing.assert_close(gradients[1], gradients[0], rtol=1e-6, atol=1e-6)


def test_weighted_gram_gradient_and_second_derivatives():
    from solo_tricl.losses.weighted_gram import weighted_gram

    z, w = double(6, 4), double(4, seed=1)
    assert gradcheck(weighted_gram, (z, w))
    assert gradgradcheck(weighted_gram, (z, w))


def autograd_logits(batch, s, anchors, scale=1.0):
    """Today's logits before the symmetric backward: autograd through two matmuls."""
    from solo_tricl.losses.tricl import scaled_anchors

    return scaled_anchors(batch, s, anchors, scale) @ batch.all.T


# (B, k, views): the bench's sizes, and multi-crop (2 large + 2 small crops)
SYMMETRIC_CASES = [(256, 256, 2), (512, 2048, 2), (32, 64, 4)]


@pytest.mark.parametrize("b,k,views", SYMMETRIC_CASES)
@pytest.mark.parametrize("loss", ["tricl", "tri-scl", "tricl nested"])
def test_the_symmetric_backward_matches_autograd_to_1e_6(monkeypatch, b, k, views, loss):
    # value and gradients (features and theta) of the whole loss, in float32 as training runs
    import solo_tricl.losses.spectral_tricl as spectral_module
    import solo_tricl.losses.tricl as tricl_module
    from solo_tricl.losses import FeatureImportance, SpectralTriCLLoss, TriCLLoss

    generator = torch.Generator().manual_seed(k)
    crops = [torch.randn(b, k, generator=generator).requires_grad_() for _ in range(views)]
    importance = FeatureImportance(k)
    with torch.no_grad():
        importance.theta.copy_(torch.randn(k, generator=generator))
    make = {
        "tricl": lambda: TriCLLoss(importance),
        "tri-scl": lambda: SpectralTriCLLoss(importance),
        "tricl nested": lambda: TriCLLoss(importance, nesting=[8, 16]),
    }[loss]
    results = []
    for logits in (tricl_module.importance_logits, autograd_logits):
        monkeypatch.setattr(tricl_module, "importance_logits", logits)
        monkeypatch.setattr(spectral_module, "importance_logits", logits)
        value = make()(*crops)
        results.append((value.detach(), *torch.autograd.grad(value, [*crops, importance.theta])))
    for new, old in zip(*results):
        torch.testing.assert_close(new, old, rtol=1e-6, atol=1e-6)


def test_the_symmetric_backward_is_taken_on_one_process_with_every_row_an_anchor():
    from solo_tricl.losses.tricl import importance_logits, normalized
    from solo_tricl.losses.views import stack_views

    batch = normalized(stack_views(double(4, 3), double(4, 3, seed=1), normalize=False))
    s = torch.rand(3, dtype=torch.float64)
    assert type(importance_logits(batch, s, "all").grad_fn).__name__ == "_WeightedGramBackward"
    # view-1 anchors only: not symmetric, autograd's matmul
    assert type(importance_logits(batch, s, "view1").grad_fn).__name__ == "MmBackward0"
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert type(importance_logits(batch, s, "all").grad_fn).__name__ == "MmBackward0"
