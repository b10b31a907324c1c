"""A tuning spread over several invocations reports what each trial took when it trained."""

import pytest

from solo_tricl.bench import tuning
from solo_tricl.bench.training import Trained
from solo_tricl.bench.tuning import Trial, run_trial, trial_key
from solo_tricl.errors import TrainingDiverged


def trial():
    return Trial("simclr", "lr", 0.2, "method_kwargs.temperature", 0.2)


def score(checkpoint, t):
    t.score = 0.7


def test_a_reused_training_keeps_the_minutes_measured_when_it_trained():
    earlier = trial()
    earlier.minutes = 6.5
    reused = run_trial(
        trial(), lambda t: Trained("n", "c.ckpt", "cmd", seconds=None), score, {trial_key(earlier): earlier}
    )
    assert reused.minutes == 6.5 and not reused.minutes_partial and reused.score == 0.7


def test_a_training_run_now_counts_its_own_time_and_an_unknown_reuse_is_marked_partial():
    fresh = run_trial(trial(), lambda t: Trained("n", "c.ckpt", "cmd", seconds=1.0), score, {})
    assert fresh.minutes == pytest.approx(0.0, abs=0.05) and not fresh.minutes_partial
    resumed = run_trial(trial(), lambda t: Trained("n", "c.ckpt", "cmd", seconds=None), score, {})
    assert resumed.minutes_partial


def test_a_diverged_trial_is_recorded_and_unscored():
    def diverge(t):
        raise TrainingDiverged("loss is nan at step 3")

    diverged = run_trial(trial(), diverge, score, {})
    assert diverged.status == "diverged" and diverged.score is None and "nan" in diverged.message


def test_the_report_marks_partial_minutes_and_sums_them(tmp_path):
    done, part = trial(), Trial("simclr", "lr", 0.4, "method_kwargs.temperature", 0.2)
    done.minutes, done.score = 6.0, 0.7
    part.minutes, part.score, part.minutes_partial = 2.0, 0.6, True
    settings = {
        "command": "solo-tricl bench --tune",
        "machine": "x86_64, 2 threads",
        "seed": 0,
        "epochs": 6,
        "fraction": 0.1,
        "train_images": 55000,
        "lr_factors": [1, 2],
        "eval_train": 5000,
        "eval_test": 5000,
        "clip_epochs": 10,
    }
    result = tuning.TuningResult(settings, {"simclr": [done, part]}, {}, minutes=8.0)
    tuning.write_tuning_report(result, tmp_path)
    text = (tmp_path / "tuning.md").read_text()
    assert "(8 minutes on x86_64" in text and "marked (part)" in text
    assert "| 2.0 (part) |" in text and "| simclr **chosen** | lr | 0.2 |" in text


def test_the_trials_saved_by_an_interrupted_tuning_are_read_back_by_setting(tmp_path):
    from dataclasses import asdict

    from solo_tricl.common.files import write_json

    saved = trial()
    saved.minutes, saved.minutes_partial = 4.0, True
    write_json(tmp_path / "tuning.json", asdict(tuning.TuningResult({}, {"simclr": [saved]}, {}, 4.0)))
    earlier = tuning.earlier_trials(tmp_path / "tuning.json")
    assert earlier[trial_key(trial())].minutes == 4.0 and earlier[trial_key(trial())].minutes_partial
    assert tuning.earlier_trials(tmp_path / "absent.json") == {}
