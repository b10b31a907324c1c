"""The bench reuses a finished run only when its settings are identical and its checkpoint exists,
and names every built-in's config."""

import os

import pytest

from solo_tricl.bench.training import (
    RUN_STARTED,
    Trained,
    finished_run,
    interrupted_checkpoint,
    reuse_or_clear,
    save_run,
)
from solo_tricl.common.files import write_json
from tests.solo.helpers import needs_solo_learn


def saved(tmp_path, settings):
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(b"weights")
    save_run(tmp_path, settings, Trained("tricl-seed0", str(checkpoint), "solo-tricl pretrain ...", 3.0))
    return checkpoint


def test_a_finished_run_is_reused_with_identical_settings_and_counts_as_untimed(tmp_path):
    settings = {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=6", "++seed=0"]}
    saved(tmp_path, settings)
    assert finished_run(tmp_path, settings)["name"] == "tricl-seed0"
    reused = reuse_or_clear(tmp_path, settings, retrain=False)
    assert reused.checkpoint.endswith("last.ckpt") and reused.seconds is None
    assert reused.recorded_seconds == 3.0  # what the training took when it ran


def test_changed_settings_or_a_missing_checkpoint_mean_training_again(tmp_path):
    settings = {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=6"]}
    checkpoint = saved(tmp_path, settings)
    assert finished_run(tmp_path, {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=7"]}) is None
    checkpoint.unlink()
    assert finished_run(tmp_path, settings) is None
    assert finished_run(tmp_path / "never-trained", settings) is None


def test_a_run_that_cannot_be_reused_is_cleared_for_a_fresh_start(tmp_path):
    run_dir = tmp_path / "tricl-seed0"
    run_dir.mkdir()
    (run_dir / "half-written.ckpt").write_bytes(b"interrupted")
    assert reuse_or_clear(run_dir, {"config": "x"}, retrain=False) is None
    assert not run_dir.exists()


def test_retrain_ignores_a_finished_run(tmp_path):
    settings = {"config": "x"}
    saved(tmp_path, settings)
    assert reuse_or_clear(tmp_path, settings, retrain=False) is not None
    assert reuse_or_clear(tmp_path, settings, retrain=True) is None


def interrupted(run_dir, settings):
    """A run that started with ``settings`` and was stopped after two epoch checkpoints."""
    write_json(run_dir / RUN_STARTED, settings)
    folder = run_dir / "tricl" / "0"
    folder.mkdir(parents=True)
    for epoch in (1, 2):
        checkpoint = folder / f"tricl-seed0-0-ep={epoch}.ckpt"
        checkpoint.write_bytes(b"weights")
        os.utime(checkpoint, (epoch, epoch))
    (folder / ".tricl-seed0-0-ep=3.ckpt.abc.tmp").write_bytes(b"half")
    return folder / "tricl-seed0-0-ep=2.ckpt"


def test_an_interrupted_run_with_the_same_settings_resumes_from_its_newest_checkpoint(tmp_path):
    settings = {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=6"]}
    newest = interrupted(tmp_path, settings)
    assert interrupted_checkpoint(tmp_path, settings) == newest
    assert reuse_or_clear(tmp_path, settings, retrain=False, resumable=True) is None
    assert newest.is_file()


@pytest.mark.parametrize(
    "change",
    ["other settings", "retrain", "not resumable", "no checkpoint yet", "finished"],
)
def test_an_interrupted_run_is_trained_afresh_when_resuming_would_be_wrong(tmp_path, change):
    settings = {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=6"]}
    newest = interrupted(tmp_path, settings)
    asked, retrain, resumable = settings, False, True
    if change == "other settings":
        asked = {"config": "fashion_mnist/tricl", "overrides": ["max_epochs=7"]}
    elif change == "retrain":
        retrain = True
    elif change == "not resumable":
        resumable = False
    elif change == "no checkpoint yet":
        for checkpoint in tmp_path.rglob("*.ckpt"):
            checkpoint.unlink()
    else:
        save_run(tmp_path, settings, Trained("tricl-seed0", str(newest), "solo-tricl pretrain ..."))
        assert reuse_or_clear(tmp_path, settings, retrain=False, resumable=True) is not None
        assert interrupted_checkpoint(tmp_path, settings) is None
        return
    assert reuse_or_clear(tmp_path, asked, retrain=retrain, resumable=resumable) is None
    assert not tmp_path.exists()


@pytest.mark.parametrize(
    "variant,config,overrides",
    [
        ("tricl", "fashion_mnist/tricl", []),
        ("tri-scl", "fashion_mnist/tri-scl", []),
        ("tricl-reference", "fashion_mnist/tricl", ["method_kwargs.decorrelation=reference"]),
        ("byol", "fashion_mnist/byol", []),
        ("mrl", "fashion_mnist/mrl", []),
    ],
)
def test_every_variant_has_a_shipped_config(variant, config, overrides):
    from solo_tricl.bench.settings import config_file, variant_config

    assert variant_config(variant) == (config, overrides) and config_file(variant).is_file()


def test_a_method_without_a_shipped_config_is_refused_with_the_allowed_ones():
    from solo_tricl.bench.settings import DEFAULT_VARIANTS, check_variants
    from solo_tricl.errors import CommandError

    check_variants(DEFAULT_VARIANTS)
    with pytest.raises(
        CommandError, match=r"'nnclr' has no shipped Fashion-MNIST config .*allowed: barlow_twins, byol"
    ):
        check_variants(["simclr", "nnclr"])
    with pytest.raises(CommandError, match="must include the baseline simclr"):
        check_variants(["tricl"])


@pytest.mark.parametrize("_", [None], ids=["solo-learn"])
@needs_solo_learn[0]
@needs_solo_learn[1]
def test_config_differences_name_what_each_built_in_changes(_):
    from solo_tricl.bench.training import config_differences

    differences = config_differences(["simclr", "byol", "mrl", "tri-scl"])
    assert "method=byol" in differences["byol"] and "method_kwargs.pred_hidden_dim=4096" in differences["byol"]
    assert any(d.startswith("optimizer.lr=") for d in differences["byol"])
    assert "method=mrl" in differences["mrl"] and "method_kwargs.smallest_prefix=8" in differences["mrl"]
    assert "optimizer.name=sgd" in differences["mrl"]
    assert "method_kwargs.variant=spectral" in differences["tri-scl"]


def test_a_clip_run_trained_before_its_losss_defaults_changed_is_trained_again(tmp_path, monkeypatch, capsys):
    from dataclasses import replace
    from types import SimpleNamespace

    from solo_tricl.bench import training
    from solo_tricl.bench.settings import BenchSettings
    from solo_tricl.clip.plugins import TRICL

    settings = BenchSettings(work=tmp_path, clip_epochs=1)
    trainings = []

    def fake_clip_train(argv, **_):
        trainings.append(argv)
        checkpoints = settings.clip_logs() / "tricl-seed0" / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        (checkpoints / f"epoch_{settings.open_clip_epochs}.pt").write_bytes(b"weights")
        return SimpleNamespace(returncode=0, stderr="")

    monkeypatch.setattr(training.subprocess, "run", fake_clip_train)
    training.train_clip("tricl", 0, settings, tmp_path / "data")
    training.train_clip("tricl", 0, settings, tmp_path / "data")
    assert len(trainings) == 1 and "reusing the finished run" in capsys.readouterr().out
    option = TRICL.options["importance_scale"]
    monkeypatch.setitem(TRICL.options, "importance_scale", replace(option, default=option.default + 1))
    training.train_clip("tricl", 0, settings, tmp_path / "data")
    assert len(trainings) == 2, "a run trained with another default of the loss was reused"
