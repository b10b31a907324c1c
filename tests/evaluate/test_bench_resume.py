"""The bench reuses a finished run only when its settings are identical and its checkpoint exists."""

from solo_tricl.evaluate.bench import finished_run, reuse_or_clear, save_run


def test_a_finished_run_is_reused_with_identical_settings(tmp_path):
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(b"weights")
    settings = {"method": "tricl", "overrides": ["max_epochs=6", "++seed=0"]}
    save_run(tmp_path, {"settings": settings, "checkpoint": str(checkpoint), "images_per_s": 12.5})

    assert finished_run(tmp_path, settings)["images_per_s"] == 12.5


def test_changed_settings_or_a_missing_checkpoint_mean_training_again(tmp_path):
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(b"weights")
    settings = {"method": "tricl", "overrides": ["max_epochs=6"]}
    save_run(tmp_path, {"settings": settings, "checkpoint": str(checkpoint)})

    assert finished_run(tmp_path, {"method": "tricl", "overrides": ["max_epochs=7"]}) is None
    checkpoint.unlink()
    assert finished_run(tmp_path, settings) is None
    assert finished_run(tmp_path / "never-trained", settings) is None


def test_a_run_that_cannot_be_reused_is_cleared_for_a_fresh_start(tmp_path):
    run_dir = tmp_path / "tricl-seed0"
    run_dir.mkdir()
    (run_dir / "half-written.ckpt").write_bytes(b"interrupted")

    assert reuse_or_clear(run_dir, {"method": "tricl"}, retrain=False) is None
    assert not run_dir.exists()


def test_retrain_ignores_a_finished_run(tmp_path):
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(b"weights")
    settings = {"method": "tricl"}
    save_run(tmp_path, {"settings": settings, "checkpoint": str(checkpoint)})

    assert reuse_or_clear(tmp_path, settings, retrain=False)["reused"] is True
    assert reuse_or_clear(tmp_path, settings, retrain=True) is None
