"""End-to-end open_clip_train runs through the launcher, on a tiny model and real data.

The tests marked open_clip also run against OpenCLIP main in CI. Where a test is parametrized,
the other cases differ only in our loss's own code, which is the same under either OpenCLIP
(each loss trains under both in tests/clip/test_open_clip_protocol.py)."""

import json
import os
import socket

import pytest
import torch

from tests.clip.helpers import checkpoint, clip_train, open_clip, train_args  # noqa: F401

pytestmark = pytest.mark.slow
BOTH_OPEN_CLIPS = pytest.mark.open_clip


def optimizer_position(name):
    """(group, index) of parameter ``name`` in the state of the optimizer OpenCLIP builds for the
    same hooked model: OpenCLIP main builds it with open_clip_train.optim.create_optimizer, 3.3
    inline in its main(), as two groups, the no-weight-decay one first."""
    from argparse import Namespace

    from solo_tricl.clip.checkpoints import MODEL_CONFIGS
    from solo_tricl.clip.plugins import TRICL

    open_clip.add_model_config(MODEL_CONFIGS)
    model = open_clip.create_model("solo-tricl-tiny")
    TRICL.prepare_model(model, Namespace(importance_init_std=0.1, importance_scale=1.0))
    try:
        from open_clip_train.optim import OptimizerCfg, create_optimizer
    except ImportError:
        excluded = [
            key
            for key, p in model.named_parameters()
            if p.ndim < 2 or "bn" in key or "ln" in key or "bias" in key or "logit_scale" in key
        ]
        return 0, excluded.index(name)
    target, index = model.get_parameter(name), 0
    for group_index, group in enumerate(create_optimizer(model, OptimizerCfg()).param_groups):
        for parameter in group["params"]:
            if parameter is target:
                return group_index, index
            index += 1
    raise AssertionError(f"{name} is in no optimizer group")


@pytest.mark.parametrize("loss", ["clip", pytest.param("tricl", marks=BOTH_OPEN_CLIPS), "ncl", "kernel", "mrl"])
def test_each_loss_trains_with_open_clip_train(loss, fashion_mnist_clip_folder, tmp_path):
    clip_train(["--loss", loss], train_args(fashion_mnist_clip_folder, tmp_path, loss, epochs=2))
    log = (tmp_path / loss / "out.log").read_text()
    assert "Contrastive_loss" in log and "nan" not in log.lower()
    for epoch in (0, 1):
        assert f"Epoch {epoch} image features (first batch): sparsity" in log
    assert ("s min / median / max" in log) == (loss == "tricl")
    run = json.loads((tmp_path / loss / "solo_tricl.json").read_text())
    assert run["loss"] == loss and run["model"] == "solo-tricl-tiny"
    first, second = checkpoint(tmp_path, loss, 1), checkpoint(tmp_path, loss, 2)
    if loss == "tricl":
        assert "Decorrelation_loss" in log
        theta_1 = first["state_dict"]["feature_importance.theta"]
        theta_2 = second["state_dict"]["feature_importance.theta"]
        assert not torch.equal(theta_1, theta_2), "s did not change during training"
        # theta sits in OpenCLIP's no-weight-decay group and the optimizer updated it
        group_index, index = optimizer_position("feature_importance.theta")
        group = second["optimizer"]["param_groups"][group_index]
        assert group["weight_decay"] == 0.0 and index in group["params"]
        moment = second["optimizer"]["state"][index]["exp_avg"]
        assert moment.shape == theta_2.shape and moment.abs().sum() > 0


# against OpenCLIP main: test_open_clip_protocol.py's unfreezing runs (--accum-freq 2, each loss)
def test_tricl_with_gradient_accumulation(fashion_mnist_clip_folder, tmp_path):
    clip_train(
        ["--loss", "tricl"], train_args(fashion_mnist_clip_folder, tmp_path, "accum", extra=["--accum-freq", "2"])
    )
    state = checkpoint(tmp_path, "accum", 1)["state_dict"]
    assert torch.isfinite(state["feature_importance.theta"]).all()


@BOTH_OPEN_CLIPS
def test_resume_latest_restores_s_exactly(fashion_mnist_clip_folder, tmp_path):
    clip_train(["--loss", "tricl"], train_args(fashion_mnist_clip_folder, tmp_path, "run", epochs=1))
    saved = checkpoint(tmp_path, "run", 1)["state_dict"]["feature_importance.theta"]
    # a second epoch at lr 0 changes nothing: theta at epoch 2 is what --resume restored
    args = train_args(fashion_mnist_clip_folder, tmp_path, "run", epochs=2, extra=["--resume", "latest"])
    args[args.index("--lr") + 1] = "0"
    clip_train(["--loss", "tricl"], args)
    resumed = checkpoint(tmp_path, "run", 2)["state_dict"]["feature_importance.theta"]
    assert torch.equal(resumed, saved)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "flags",
    [pytest.param(["--local-loss", "--gather-with-grad"], marks=BOTH_OPEN_CLIPS), ["--gather-with-grad"], []],
)
def test_two_processes_with_open_clip_distributed_flags(flags, fashion_mnist_clip_folder, tmp_path):
    """Two CPU processes (gloo), started as torchrun would start them, with the env variables."""
    import subprocess
    import sys

    port = str(free_port())
    args = train_args(fashion_mnist_clip_folder, tmp_path, "ddp", extra=["--dist-backend", "gloo", *flags])
    command = [sys.executable, "-m", "solo_tricl.cli", "clip-train", "--loss", "tricl", "--", *args]
    processes = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "WORLD_SIZE": "2",
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": port,
            },
        )
        for rank in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs[0][1][-3000:] + outputs[1][1][-3000:]
    log = (tmp_path / "ddp" / "out.log").read_text()
    assert "world size 2" in log.lower() or "world_size: 2" in (tmp_path / "ddp" / "params.txt").read_text()
    assert torch.isfinite(checkpoint(tmp_path, "ddp", 1)["state_dict"]["feature_importance.theta"]).all()
