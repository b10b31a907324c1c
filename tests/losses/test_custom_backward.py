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


@pytest.mark.parametrize("form,average_rows", DECORRELATIONS)
def test_decorrelation_gradient(form, average_rows):
    assert gradcheck(lambda z: decorrelation_loss(z, form, average_rows), (double(9, 4),))


@pytest.mark.parametrize("form,average_rows", DECORRELATIONS)
def test_decorrelation_second_derivatives(form, average_rows):
    assert gradgradcheck(lambda z: decorrelation_loss(z, form, average_rows), (double(9, 4),))


def test_decorrelation_hessian_vector_product_matches_plain_autograd():
    z, v = double(12, 5), double(12, 5, seed=1).detach()

    def plain(z):
        c = (5 / 12) * z.T @ z - torch.eye(5, dtype=z.dtype)
        return c.pow(2).mean()

    products = []
    for f in (decorrelation_loss, plain):
        (grad,) = torch.autograd.grad(f(z), z, create_graph=True)
        (hvp,) = torch.autograd.grad((grad * v).sum(), z)
        products.append(hvp)
    torch.testing.assert_close(products[0], products[1], rtol=1e-10, atol=1e-12)
