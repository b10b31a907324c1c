"""``++data_order_seed``: the same initial weights as ``seed``, another order of batches and
crops; the noise floor of identifiability is measured with such pairs."""

import torch

from tests.solo.helpers import needs_solo_learn, pretrain_cfg

pytestmark = needs_solo_learn


def first_state(method, fashion_mnist_folder, directory, **extra):
    from lightning.pytorch.callbacks import Callback

    from solo_tricl.solo.pretrain import pretrain

    class Record(Callback):
        def on_train_start(self, trainer, module):
            self.weights = {k: v.detach().clone() for k, v in module.backbone.state_dict().items()}

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if batch_idx == 0:
                self.first_batch = batch[0].clone()

    record = Record()
    pretrain(pretrain_cfg(method, fashion_mnist_folder, directory, **extra), [record])
    return record


def same_weights(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_data_order_seed_keeps_the_init_and_changes_the_batches(fashion_mnist_folder, tmp_path):
    base = first_state("tricl", fashion_mnist_folder, tmp_path / "a", **{"++seed": 0, "++data_order_seed": 10})
    other_order = first_state("tricl", fashion_mnist_folder, tmp_path / "b", **{"++seed": 0, "++data_order_seed": 11})
    other_seed = first_state("tricl", fashion_mnist_folder, tmp_path / "c", **{"++seed": 1, "++data_order_seed": 10})
    assert same_weights(base.weights, other_order.weights)
    assert not torch.equal(base.first_batch, other_order.first_batch)
    assert not same_weights(base.weights, other_seed.weights)
