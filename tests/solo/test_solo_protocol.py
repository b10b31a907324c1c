"""solo-learn's own method-test protocol (its ``tests/methods/utils.py`` and ``test_simclr.py``),
run on tricl, ncl and kernel: cfg defaults, learnable_params, forward and multicrop_forward
outputs, and fitting on its dummy ImageNet-100- and CIFAR-shaped data with 0 and 6 small crops.

solo-learn's test helpers are not installed with its package: they are loaded from its source
tree, named by ``SOLO_LEARN_SRC``.
"""

import importlib.util
import os
from pathlib import Path

import pytest
import torch

from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]

METHOD_KWARGS = {
    "tricl": {"proj_output_dim": 256, "proj_hidden_dim": 2048, "temperature": 0.2},
    "ncl": {"proj_output_dim": 256, "proj_hidden_dim": 2048, "temperature": 0.2},
    "kernel": {"proj_output_dim": 256, "proj_hidden_dim": 2048},
}


@pytest.fixture(scope="module")
def solo_test_utils():
    source = os.environ.get("SOLO_LEARN_SRC")
    utils = Path(source or "") / "tests" / "methods" / "utils.py"
    if not source or not utils.is_file():
        pytest.skip("SOLO_LEARN_SRC does not name a solo-learn source tree with tests/methods/utils.py")
    spec = importlib.util.spec_from_file_location("solo_learn_test_utils", utils)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit(utils, method_class, cfg, dataset):
    model = method_class(cfg)
    trainer = utils.gen_trainer(cfg)
    train_dl, val_dl = utils.prepare_dummy_dataloaders(
        dataset,
        num_large_crops=cfg.data.num_large_crops,
        num_small_crops=cfg.data.num_small_crops,
        num_classes=cfg.data.num_classes,
        batch_size=cfg.optimizer.batch_size,
    )
    trainer.fit(model, train_dl, val_dl)
    return trainer


@pytest.mark.parametrize("name", METHOD_KWARGS)
def test_solo_learn_method_protocol(name, solo_test_utils):
    from solo.methods import METHODS

    from solo_tricl.solo import register

    register()
    utils = solo_test_utils
    cfg = utils.gen_base_cfg(name, batch_size=2, num_classes=100)
    cfg.method_kwargs = dict(METHOD_KWARGS[name])
    method_class = METHODS[name]
    model = method_class(cfg)

    # arguments: defaults filled in, as for solo-learn's own methods
    model.add_and_assert_specific_cfg(cfg)
    assert cfg.method_kwargs.proj_output_dim == 256
    assert model.learnable_params is not None

    batch, _ = utils.gen_batch(cfg.optimizer.batch_size, cfg.data.num_classes, "imagenet100")
    out = model(batch[1][0])
    assert out["logits"].shape == (2, cfg.data.num_classes)
    assert out["feats"].shape == (2, model.features_dim)
    assert out["z"].shape == (2, 256)
    multicrop = model.multicrop_forward(batch[1][0])
    assert multicrop["feats"].shape == (2, model.features_dim) and multicrop["z"].shape == (2, 256)

    losses = {}
    for dataset, classes, small_crops in (("imagenet100", 100, 0), ("cifar10", 10, 0), ("imagenet100", 100, 6)):
        cfg.data.dataset = "custom" if dataset == "imagenet100" else "cifar10"
        cfg.data.num_classes = classes
        cfg.data.num_small_crops = small_crops
        trainer = fit(utils, method_class, cfg, dataset)
        assert trainer.state.finished
        losses[(dataset, small_crops)] = trainer.callback_metrics[f"train_{name}_loss"]
    assert all(torch.isfinite(loss) for loss in losses.values())
