"""A bench run's measurement is saved beside its training and reused only for the same
checkpoint, settings and measures; time and throughput always come from this invocation."""

import json
from types import SimpleNamespace

import torch

from solo_tricl.bench import results
from solo_tricl.bench.results import MEASURED, measure_solo_run_once
from solo_tricl.evaluate.features import RunFeatures, Split


def tiny_run(seed=0):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(300) % 4
    latent = torch.nn.functional.one_hot(labels, 8).float() + 0.3 * torch.randn(300, 8, generator=generator)

    def split():
        return Split(latent.clone(), labels, backbone=torch.randn(300, 16, generator=generator))

    views = (
        latent + 0.1 * torch.randn(300, 8, generator=generator),
        latent + 0.1 * torch.randn(300, 8, generator=generator),
    )
    return RunFeatures("ckpt", "solo-learn", "simclr", split(), split(), views=views)


def trained(tmp_path, seconds):
    checkpoint = tmp_path / "simclr-seed0-ep=5.ckpt"
    if not checkpoint.exists():
        checkpoint.write_bytes(b"weights")
    return SimpleNamespace(
        name="simclr-seed0", checkpoint=str(checkpoint), seconds=seconds, images_per_s=None, command="c"
    )


def test_a_measurement_is_reused_for_the_same_checkpoint_and_settings_only(tmp_path, capsys, monkeypatch):
    calls = []
    measure = results.measure_solo_run
    monkeypatch.setattr(results, "measure_solo_run", lambda *a, **k: calls.append(1) or measure(*a, **k))
    settings = {"eval_train": 300, "eval_test": 300, "views": 300}

    first, ordered = measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, 12.0), tmp_path, settings)
    assert len(calls) == 1 and first.train_seconds == 12.0 and (tmp_path / MEASURED).is_file()

    again, ordered_again = measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, None), tmp_path, settings)
    assert len(calls) == 1, "measured again"
    assert "reusing its measurement" in capsys.readouterr().out
    assert again.orders == first.orders and again.bottom == first.bottom and again.train_seconds is None
    for order in ordered:
        assert torch.equal(ordered[order].test.features, ordered_again[order].test.features)

    measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, None), tmp_path, {**settings, "eval_test": 200})
    assert len(calls) == 2, "other settings reuse nothing"
    trained(tmp_path, None)
    (tmp_path / "simclr-seed0-ep=5.ckpt").write_bytes(b"other weights")
    measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, None), tmp_path, {**settings, "eval_test": 200})
    assert len(calls) == 3, "another checkpoint reuses nothing"

    saved = json.loads((tmp_path / MEASURED).read_text())
    saved["key"]["version"] = results.MEASURES_VERSION - 1
    (tmp_path / MEASURED).write_text(json.dumps(saved))
    measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, None), tmp_path, {**settings, "eval_test": 200})
    assert len(calls) == 4, "an older version of the measures reuses nothing"
    (tmp_path / MEASURED).write_text("{truncated")
    measure_solo_run_once(tiny_run(), "simclr", 0, trained(tmp_path, None), tmp_path, {**settings, "eval_test": 200})
    assert len(calls) == 5, "a damaged file is measured again"
