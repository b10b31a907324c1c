"""A bench run's measurement is saved beside its training and reused only for the same
checkpoint, settings and measures version."""

import json

import torch

from solo_tricl.bench import records
from solo_tricl.bench.records import MEASURED, measure_once, measurement_key
from solo_tricl.evaluate.features import RunFeatures, Split
from solo_tricl.evaluate.measurement import measure_run
from solo_tricl.evaluate.orders import activation_mass


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
    return RunFeatures(
        "ckpt", "solo-learn", "simclr", split(), split(), views=views, activation=activation_mass(latent)
    )


def test_a_measurement_is_reused_for_the_same_checkpoint_and_settings_only(tmp_path, capsys):
    calls = []

    def measure(features):
        calls.append(1)
        return measure_run(features, ("importance", "pca", "canonical"), (1, 2, 4))

    checkpoint = tmp_path / "simclr-seed0-ep=5.ckpt"
    checkpoint.write_bytes(b"weights")
    settings = {"eval_train": 300, "eval_test": 300, "views": 300}

    first = measure_once(tiny_run(), tmp_path, measurement_key(checkpoint, **settings), measure)
    assert len(calls) == 1 and (tmp_path / MEASURED).is_file() and not first.reused

    again = measure_once(tiny_run(), tmp_path, measurement_key(checkpoint, **settings), measure)
    assert len(calls) == 1, "measured again"
    assert "reusing its measurement" in capsys.readouterr().out
    assert again.measurement == first.measurement
    # the time measuring took when it ran comes back with the reused measurement
    assert again.reused and again.recorded_seconds == json.loads((tmp_path / MEASURED).read_text())["seconds"] > 0
    for order in first.ordered:
        assert torch.equal(first.ordered[order][0].test.features, again.ordered[order][0].test.features)

    other = measurement_key(checkpoint, **{**settings, "eval_test": 200})
    measure_once(tiny_run(), tmp_path, other, measure)
    assert len(calls) == 2, "other settings reuse nothing"
    checkpoint.write_bytes(b"other weights")
    measure_once(tiny_run(), tmp_path, measurement_key(checkpoint, **{**settings, "eval_test": 200}), measure)
    assert len(calls) == 3, "another checkpoint reuses nothing"

    key = measurement_key(checkpoint, **{**settings, "eval_test": 200})
    saved = json.loads((tmp_path / MEASURED).read_text())
    saved["key"]["version"] = records.MEASURES_VERSION - 1
    (tmp_path / MEASURED).write_text(json.dumps(saved))
    measure_once(tiny_run(), tmp_path, key, measure)
    assert len(calls) == 4, "an older version of the measures reuses nothing"
    (tmp_path / MEASURED).write_text("{truncated")
    measure_once(tiny_run(), tmp_path, key, measure)
    assert len(calls) == 5, "a damaged file is measured again"


def test_the_bench_time_adds_what_reused_work_took_and_counts_what_recorded_none():
    from solo_tricl.bench.markdown import time_taken
    from solo_tricl.bench.records import BenchTime

    fresh = BenchTime(invocation_minutes=200.4)
    assert time_taken(fresh) == "200 minutes"
    resumed = BenchTime(invocation_minutes=100.0)
    resumed.add_reused(1800.0)  # a training of 30 minutes
    resumed.add_reused(600.0)  # its measurement, 10 minutes
    resumed.add_reused(None)  # a training that recorded no time
    assert resumed.minutes == 140.0 and (resumed.reused, resumed.unrecorded) == (3, 1)
    text = time_taken(resumed)
    assert text.startswith("140 minutes: 100 in its last invocation, and 40 that the 3 trainings")
    assert "1 of them recorded no time" in text
