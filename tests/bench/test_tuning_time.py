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


def measure_unless_scored(checkpoint, t):
    """What score_solo and score_clip do: measure only a trial that holds no score yet."""
    if t.score is None:
        t.score = 0.7


def test_a_reused_training_keeps_the_minutes_and_the_scores_measured_when_it_trained():
    earlier = trial()
    earlier.minutes, earlier.score, earlier.effective_rank, earlier.collapsed = 6.5, 0.61, 4.2, False
    reused = run_trial(
        trial(),
        lambda t: Trained("n", "c.ckpt", "cmd", seconds=None),
        measure_unless_scored,
        {trial_key(earlier): earlier},
    )
    assert reused.minutes == 6.5 and not reused.minutes_partial
    assert (reused.score, reused.effective_rank, reused.collapsed) == (0.61, 4.2, False)


def test_a_training_run_now_is_measured_now_even_where_an_earlier_invocation_scored_it():
    earlier = trial()
    earlier.minutes, earlier.score = 6.5, 0.61
    fresh = run_trial(
        trial(),
        lambda t: Trained("n", "c.ckpt", "cmd", seconds=2.0),
        measure_unless_scored,
        {trial_key(earlier): earlier},
    )
    assert fresh.score == 0.7 and fresh.minutes < 1


def test_a_reused_training_that_an_earlier_invocation_did_not_score_is_scored():
    unscored = trial()
    unscored.minutes = 3.0
    reused = run_trial(
        trial(),
        lambda t: Trained("n", "c.ckpt", "cmd", seconds=None),
        measure_unless_scored,
        {trial_key(unscored): unscored},
    )
    assert reused.score == 0.7


def test_a_reused_training_missing_from_tuning_json_takes_the_time_its_run_record_holds():
    reused = run_trial(trial(), lambda t: Trained("n", "c.ckpt", "cmd", None, recorded_seconds=300.0), score, {})
    assert reused.minutes == pytest.approx(5.0, abs=0.05) and not reused.minutes_partial


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


def test_a_trial_scored_before_is_not_measured_again(tmp_path):
    scored = trial()
    scored.score = 0.61
    tuning.score_solo(str(tmp_path / "absent.ckpt"), tmp_path, None, scored)
    tuning.score_clip(str(tmp_path / "absent.pt"), tmp_path, None, scored)
    assert scored.score == 0.61


def write_metrics(path, header, rows):
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([",".join(header), *(",".join(map(str, row)) for row in rows)]) + "\n")


def test_epoch_losses_read_the_methods_objective_per_epoch_and_a_resumed_log_replaces_its_epochs(tmp_path):
    from solo_tricl.bench.training import epoch_losses

    header = ["epoch", "step", "train_class_loss_epoch", "train_tricl_contrastive_epoch", "train_tricl_loss_epoch"]
    write_metrics(
        tmp_path / "lightning_logs/version_0/metrics.csv",
        header,
        [[0, 9, 2.3, 5.0, 6.0], [0, 9, "", "", ""], [1, 19, 2.2, 4.0, 5.0], [2, 29, 2.1, 3.9, 4.9]],
    )
    write_metrics(  # resumed from the checkpoint of epoch 1: epoch 2 again, then 3
        tmp_path / "lightning_logs/version_1/metrics.csv", header, [[2, 29, 2.1, 3.5, 4.5], [3, 39, 2.0, 3.0, 4.0]]
    )
    assert epoch_losses(tmp_path) == [6.0, 5.0, 4.5, 4.0]


def test_epoch_losses_take_byols_negative_cosine_and_nothing_without_logs(tmp_path):
    from solo_tricl.bench.training import epoch_losses

    header = ["epoch", "step", "train_class_loss_epoch", "train_neg_cos_sim_epoch", "train_z_std_epoch"]
    write_metrics(tmp_path / "lightning_logs/version_0/metrics.csv", header, [[0, 9, 2.3, -0.5, 0.1]])
    assert epoch_losses(tmp_path) == [-0.5]
    assert epoch_losses(tmp_path / "absent") == []


def test_the_report_shows_the_training_loss_and_why_a_collapsed_choice_is_collapsed(tmp_path):
    flat = Trial("barlow_twins", "lr", 0.15, "method_kwargs.lamb", 0.0051)
    flat.score, flat.effective_rank, flat.mean_abs_corr, flat.collapsed = 0.46, 1.4, 0.93, True
    flat.training_loss, flat.minutes = [192.5, 196.5, 188.6], 5.0
    settings = {
        "command": "solo-tricl bench --tune",
        "machine": "x86_64, 2 threads",
        "seed": 0,
        "epochs": 3,
        "fraction": 0.1,
        "train_images": 55000,
        "lr_factors": [1],
        "eval_train": 5000,
        "eval_test": 5000,
        "clip_epochs": 10,
    }
    tuning.write_tuning_report(tuning.TuningResult(settings, {"barlow_twins": [flat]}, {}, 5.0), tmp_path)
    text = (tmp_path / "tuning.md").read_text()
    assert "| 0.930 | 192 → 189 (-2%) | 5.0 |" in text
    assert "collapsed at its best setting: effective rank 1.4, training loss 192 → 189 (-2%)" in text
    assert "exceeds 0.8" in text


def test_a_choice_at_an_end_of_the_grid_is_named():
    def scored(lr, value, score):
        t = Trial("simclr", "lr", lr, "method_kwargs.temperature", value)
        t.score = score
        return t

    group = [scored(0.2, 0.2, 0.74), scored(0.4, 0.2, 0.69), scored(0.8, 0.2, 0.63)]
    group += [scored(0.2, 0.1, 0.75), scored(0.2, 0.4, 0.752)]
    assert tuning.grid_edges(tuning.best(group), group) == [
        "the lowest learning rate tried",
        "the highest value of the key hyperparameter tried",
    ]
    inside = [scored(0.2, 0.2, 0.6), scored(0.4, 0.2, 0.7), scored(0.8, 0.2, 0.65)]
    assert tuning.grid_edges(tuning.best(inside), inside) == []


def test_an_invocation_stopped_early_keeps_the_trials_it_had_not_reached(tmp_path):
    from dataclasses import asdict

    from solo_tricl.common.files import write_json

    first, second = trial(), Trial("barlow_twins", "lr", 0.15, "method_kwargs.lamb", 0.0051)
    first.minutes, second.minutes, second.score = 7.0, 5.0, 0.46
    write_json(tmp_path / "tuning.json", asdict(tuning.TuningResult({}, {"simclr": [first], "barlow_twins": [second]})))
    earlier = tuning.earlier_trials(tmp_path / "tuning.json")
    # the next invocation reaches simclr, then stops: barlow_twins must survive in what it saves
    result = tuning.TuningResult({}, {"simclr": [first]})
    tuning.record_progress(result, earlier, data_minutes=1.0)
    assert result.minutes == 8.0 and [t.variant for t in result.pending] == ["barlow_twins"]
    write_json(tmp_path / "tuning.json", asdict(result))
    again = tuning.earlier_trials(tmp_path / "tuning.json")
    assert again[trial_key(second)].minutes == 5.0 and again[trial_key(second)].score == 0.46
    assert tuning.load_tuning(tmp_path / "tuning.json").pending[0].variant == "barlow_twins"
