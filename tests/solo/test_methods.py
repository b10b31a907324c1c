"""The plugin methods inside real solo-learn: build, forward, fit, train theta, checkpoint."""

import pytest
import torch

from tests.solo.helpers import needs_solo_learn, pretrain_cfg

pytestmark = needs_solo_learn

METHOD_CONFIGS = {
    "tricl": {},
    "tricl-spectral-view1": {"method_kwargs.variant": "spectral", "method_kwargs.anchors": "view1"},
    "ncl": {},
    "ncl-relu": {"method_kwargs.non_neg": "relu"},
    "kernel": {},
    "kernel-none": {"method_kwargs.mixture": "none", "method_kwargs.gamma": 0.5},
    "kernel-concat": {"method_kwargs.mixture": "concat"},
    "mrl": {},
    "mrl-nested": {"method_kwargs.nesting": [2, 8, 16]},
}


def build(method_name, data, tmp_path, **extra):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    from solo_tricl.solo import register

    register()
    cfg = parse_cfg(pretrain_cfg(method_name.split("-")[0], data, tmp_path, **extra))
    return METHODS[cfg.method](cfg), cfg


@pytest.mark.parametrize("name", METHOD_CONFIGS)
def test_builds_from_its_shipped_config_and_forward_has_solo_keys(name, fashion_mnist_folder, tmp_path):
    method, cfg = build(name, fashion_mnist_folder, tmp_path, **METHOD_CONFIGS[name])
    out = method(torch.randn(4, 3, 28, 28))
    assert {"logits", "feats", "z"} <= set(out)
    assert out["z"].shape == (4, 16) and out["logits"].shape == (4, cfg.data.num_classes)
    if name.startswith("ncl"):
        assert (out["z"] >= 0).all(), "NCL's representation is post-activation"
    if name.startswith("mrl"):
        assert method.loss.nesting == (tuple(METHOD_CONFIGS[name]["method_kwargs.nesting"]) if "-" in name else None)
    multicrop = method.multicrop_forward(torch.randn(2, 3, 28, 28))
    assert multicrop["z"].shape == (2, 16)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tricl", "tricl-spectral-view1", "ncl", "kernel", "kernel-concat", "mrl-nested"])
def test_fast_dev_run_fit_on_cpu(name, fashion_mnist_folder, tmp_path):
    from solo_tricl.solo.pretrain import pretrain

    extra = {**METHOD_CONFIGS[name], "++fast_dev_run": 2}
    result = pretrain(pretrain_cfg(name.split("-")[0], fashion_mnist_folder, tmp_path, **extra))
    assert result.trainer.state.finished
    assert torch.isfinite(result.trainer.callback_metrics[f"train_{result.cfg.method}_loss"])


def initial_theta(cfg):
    """theta as pretrain() initialises it: it seeds with cfg.seed, then builds the method."""
    from lightning.pytorch import seed_everything
    from solo.methods import METHODS

    seed_everything(cfg.seed)
    return METHODS[cfg.method](cfg).importance.theta.detach().clone()


def test_theta_trains_and_sits_in_the_optimizer(tricl_run):
    result = tricl_run["result"]
    theta = result.method.importance.theta.detach()
    assert not torch.allclose(theta, initial_theta(result.cfg)), "theta did not change"
    groups = [
        g
        for g in result.trainer.optimizers[0].param_groups
        if any(p is result.method.importance.theta for p in g["params"])
    ]
    assert len(groups) == 1
    assert groups[0]["weight_decay"] == 0.0 and groups[0]["exclude_bias_n_norm"] is True


def test_lars_does_not_rescale_theta():
    """One LARS step on the importance group is a plain SGD step: no trust-ratio scaling."""
    from solo.utils.lars import LARS

    theta = torch.nn.Parameter(torch.full((8,), 0.3))
    optimizer = LARS(
        [{"params": [theta], "weight_decay": 0.0, "exclude_bias_n_norm": True}],
        lr=0.5,
        momentum=0.9,
        eta=0.02,
        weight_decay=1e-4,
    )
    theta.grad = torch.linspace(-1, 1, 8)
    before = theta.detach().clone()
    optimizer.step()
    assert torch.allclose(theta.detach(), before - 0.5 * theta.grad)


def test_checkpoint_holds_s_and_resume_restores_it_exactly(tricl_run, fashion_mnist_folder):
    from solo_tricl.solo.checkpoints import load_method
    from solo_tricl.solo.pretrain import pretrain

    checkpoint = tricl_run["result"].last_checkpoint
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    saved = state["loss.importance.theta"]
    assert torch.equal(saved, tricl_run["result"].method.importance.theta.detach())

    reloaded, _ = load_method(checkpoint)
    assert torch.equal(reloaded.importance.theta.detach(), saved)

    # Lightning's resume: the run already reached max_epochs, so theta must come back untouched
    resumed = pretrain(
        pretrain_cfg("tricl", fashion_mnist_folder, tricl_run["dir"], **{"++resume_from_checkpoint": checkpoint})
    )
    assert torch.equal(resumed.method.importance.theta.detach(), saved)


def test_the_feature_statistics_are_logged_every_epoch(tricl_run):
    metrics = tricl_run["result"].trainer.callback_metrics
    assert {"train_features_sparsity", "train_features_effective_rank", "train_features_mean_abs_corr"} <= set(metrics)
    assert 1 <= float(metrics["train_features_effective_rank"]) <= 16
    assert {"importance_q000", "importance_q050", "importance_q100"} <= set(metrics)
