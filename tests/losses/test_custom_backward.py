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
