"""``solo-tricl bench --tune``: the same tuning budget for every method, chosen on a validation split.

For each solo-learn variant, from its shipped config and with one seed:

1. the learning rate: the shipped one times each of ``--lr-factors`` (default 0.5, 1, 2), at the
   shipped key hyperparameter;
2. the method's one key hyperparameter (:data:`KEY_HYPERPARAMETERS`): two values around the shipped
   one, at the best learning rate of step 1. A method with no key hyperparameter gets two more
   learning rates instead, so every method trains the same number of settings.

Every setting is scored by the kNN accuracy (solo-learn's) of the backbone features on a
validation split held out of the training images; the test images are never read. Each OpenCLIP
loss trains at the bench's learning rate times each factor and is scored by its zero-shot
accuracy on captioned images held out of its training images. A run that diverges is recorded as
diverged; a collapsed run is recorded with its effective rank and mean |corr|, and every solo-learn
run with its training loss per epoch, which tells a method that did not train in the budget from
one that trained into a collapse.
"""

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from solo_tricl.bench.settings import CLIP_LEARNING_RATES, BenchSettings, variant_config
from solo_tricl.common.files import write_json, write_text

# variant -> (config key, the two values tried besides the shipped one): each a factor of 1/2 and 2
# away from the shipped value (for BYOL's momentum, of 1 - tau)
KEY_HYPERPARAMETERS = {
    "simclr": ("method_kwargs.temperature", (0.1, 0.4)),
    "byol": ("momentum.base_tau", (0.98, 0.995)),
    "barlow_twins": ("method_kwargs.lamb", (0.00255, 0.0102)),
    "vicreg": ("method_kwargs.sim_loss_weight", (12.5, 50.0)),
    "mocov3": ("method_kwargs.temperature", (0.1, 0.4)),
    "tricl": ("method_kwargs.decorrelation_weight", (5.0, 20.0)),
    "tri-scl": ("method_kwargs.decorrelation_weight", (5.0, 20.0)),
    "ncl": ("method_kwargs.temperature", (0.1, 0.4)),
    "kernel": ("method_kwargs.tau1", (0.05, 0.2)),
    "mrl": ("method_kwargs.temperature", (0.1, 0.4)),
}
EXTRA_LR_FACTORS = (0.25, 4.0)  # for a method without a key hyperparameter
LR_FACTORS = (0.5, 1.0, 2.0)


@dataclass
class Trial:
    """One setting of one variant and how it scored on the validation split."""

    variant: str
    stage: str  # "lr" or the key hyperparameter's name
    lr: float
    key: Optional[str]
    value: Optional[float]
    status: str = "trained"  # or "diverged"
    score: Optional[float] = None  # kNN (solo-learn) or zero-shot (OpenCLIP) accuracy on validation
    effective_rank: Optional[float] = None
    mean_abs_corr: Optional[float] = None
    collapsed: Optional[bool] = None
    message: str = ""
    training_loss: Optional[List[float]] = None  # per-epoch mean of the method's objective (solo-learn)
    minutes: Optional[float] = None
    minutes_partial: bool = False  # minutes count the last invocation only (resumed, or its training time unknown)


@dataclass
class TuningResult:
    settings: dict
    solo: Dict[str, List[Trial]] = field(default_factory=dict)
    clip: Dict[str, List[Trial]] = field(default_factory=dict)
    minutes: float = 0.0
    # trials an earlier invocation saved that this one has not reached yet: kept in tuning.json,
    # so an invocation stopped early loses none of them
    pending: List[Trial] = field(default_factory=list)


def shipped_values(variant: str) -> Tuple[float, Optional[str], Optional[float]]:
    """(learning rate, key hyperparameter, its value) of the variant's composed config."""
    from omegaconf import OmegaConf

    from solo_tricl.solo.cli import compose

    cfg = compose("pretrain", None, *variant_config(variant))
    key = KEY_HYPERPARAMETERS.get(variant, (None,))[0]
    value = OmegaConf.select(cfg, key) if key else None
    if key == "method_kwargs.decorrelation_weight" and value is None:
        from solo_tricl.losses.defaults import DECORRELATION_WEIGHTS

        value = DECORRELATION_WEIGHTS[cfg.method_kwargs.decorrelation]
    return float(cfg.optimizer.lr), key, None if value is None else float(value)


def trial_name(variant: str, lr: float, key: Optional[str], value: Optional[float]) -> str:
    suffix = "" if key is None else f"-{key.rsplit('.', 1)[-1]}{value:g}"
    return f"{variant}-lr{lr:g}{suffix}"


def score_solo(checkpoint: str, data: Path, settings: BenchSettings, trial: Trial) -> None:
    """The validation kNN accuracy and the collapse measures, unless ``trial`` already holds them
    (a reused training, scored by an earlier invocation)."""
    from solo_tricl.evaluate import measures
    from solo_tricl.evaluate.features import solo_features

    if trial.score is not None:
        return
    run = solo_features(checkpoint, data, limit_train=settings.eval_train, limit_test=settings.eval_test)
    trial.score = measures.knn_accuracy(run.train.backbone, run.train.labels, run.test.backbone, run.test.labels)
    collapse = measures.collapse(run.test.features)
    trial.effective_rank, trial.mean_abs_corr = collapse["effective_rank"], collapse["mean_abs_corr"]
    trial.collapsed = collapse["collapsed"]


def score_clip(checkpoint: str, data: Path, settings: BenchSettings, trial: Trial) -> None:
    from solo_tricl.evaluate import measures
    from solo_tricl.evaluate.features import clip_features

    if trial.score is not None:
        return
    run = clip_features(checkpoint, data, limit_train=settings.eval_train, limit_test=settings.eval_test)
    trial.score = measures.zero_shot_accuracy(run.classifier, run.test.features, run.test.labels)
    collapse = measures.collapse(run.test.features)
    trial.effective_rank, trial.mean_abs_corr = collapse["effective_rank"], collapse["mean_abs_corr"]
    trial.collapsed = collapse["collapsed"]


def trial_key(trial: Trial) -> tuple:
    return trial.variant, trial.stage, trial.lr, trial.key, trial.value


SCORE_FIELDS = ("score", "effective_rank", "mean_abs_corr", "collapsed")


def run_trial(trial: Trial, train, score, earlier: Dict[tuple, Trial]) -> Trial:
    """Train and score ``trial``; a divergence is recorded, not raised. ``train`` returns a
    :class:`~solo_tricl.bench.training.Trained`; a training reused from an earlier invocation keeps
    the minutes and the scores that invocation recorded for it (``earlier``), so a tuning spread
    over several invocations reports what it took and does not measure a run twice."""
    from solo_tricl.errors import TrainingDiverged

    started = time.time()
    print(f"== tuning {trial.variant}: lr {trial.lr:g}" + (f", {trial.key}={trial.value:g}" if trial.key else ""))
    trained = None
    try:
        trained = train(trial)
    except TrainingDiverged as error:
        trial.status, trial.message = "diverged", str(error)
    else:
        before = earlier.get(trial_key(trial)) if trained.seconds is None else None
        if before is not None and before.status == "trained":
            for name in SCORE_FIELDS:
                setattr(trial, name, getattr(before, name))
        score(trained.checkpoint, trial)
    trial.minutes = (time.time() - started) / 60
    if trained is not None and trained.seconds is None:
        before = earlier.get(trial_key(trial))
        if before is not None and before.minutes is not None:
            trial.minutes, trial.minutes_partial = before.minutes, before.minutes_partial
        elif trained.recorded_seconds is not None:  # its training time, from its run record
            trial.minutes += trained.recorded_seconds / 60
        else:
            trial.minutes_partial = True
    print(f"   {trial.status}, validation score {trial.score}", flush=True)
    return trial


def best(trials: Sequence[Trial]) -> Optional[Trial]:
    scored = [t for t in trials if t.score is not None and not math.isnan(t.score)]
    return max(scored, key=lambda t: t.score) if scored else None


def tune_solo(variant: str, settings: BenchSettings, data: Path, lr_factors: Sequence[float], run) -> List[Trial]:
    """The learning-rate stage, then the key hyperparameter at the best learning rate. ``run(trial,
    train, score)`` trains and scores one trial (:func:`run_trial`, and saves the progress)."""
    from solo_tricl.bench.training import epoch_losses, train_solo

    lr, key, value = shipped_values(variant)
    seed = settings.seeds[0]

    def train(trial: Trial):
        overrides = [f"optimizer.lr={trial.lr:.6g}"]
        if trial.key and trial.value != value:
            overrides.append(f"++{trial.key}={trial.value:.6g}")
        name = trial_name(variant, trial.lr, trial.key, trial.value)
        return train_solo(variant, seed, settings, data, overrides, name=name)

    def score(checkpoint: str, trial: Trial) -> None:
        score_solo(checkpoint, data, settings, trial)
        trial.training_loss = epoch_losses(settings.solo_run_dir(trial_name(variant, trial.lr, trial.key, trial.value)))

    factors = [*lr_factors, *(() if key else EXTRA_LR_FACTORS)]
    trials = [run(Trial(variant, "lr", float(f"{lr * f:.6g}"), key, value), train, score) for f in factors]
    if key:
        at_lr = (best(trials) or trials[0]).lr
        for alternative in KEY_HYPERPARAMETERS[variant][1]:
            trials.append(run(Trial(variant, key, at_lr, key, alternative), train, score))
    return trials


def tune_clip(loss: str, settings: BenchSettings, data: Path, lr_factors: Sequence[float], run) -> List[Trial]:
    from solo_tricl.bench.training import train_clip

    base = CLIP_LEARNING_RATES[loss]
    seed = settings.seeds[0]

    def train(trial: Trial):
        return train_clip(loss, seed, settings, data, trial.lr, name=f"{loss}-lr{trial.lr:g}")

    def score(checkpoint: str, trial: Trial) -> None:
        score_clip(checkpoint, data, settings, trial)

    return [run(Trial(loss, "lr", float(f"{base * f:.6g}"), None, None), train, score) for f in lr_factors]


def earlier_trials(path: Path) -> Dict[tuple, Trial]:
    """The trials a tuning interrupted before saved in ``tuning.json``, by setting."""
    if not path.is_file():
        return {}
    saved = load_tuning(path)
    return {trial_key(t): t for group in (*saved.solo.values(), *saved.clip.values(), saved.pending) for t in group}


def record_progress(result: TuningResult, earlier: Dict[tuple, Trial], data_minutes: float) -> None:
    """The minutes so far, and the ``earlier`` trials this invocation has not reached yet."""
    trials = [t for group in (result.solo, result.clip) for ts in group.values() for t in ts]
    result.minutes = data_minutes + sum(t.minutes or 0 for t in trials)
    reached = {trial_key(t) for t in trials}
    result.pending = [t for key, t in earlier.items() if key not in reached]


def run_tuning(settings: BenchSettings, lr_factors: Sequence[float], out: Path, context: dict) -> TuningResult:
    from dataclasses import replace

    from solo_tricl.bench.training import prepare_tuning_data

    started = time.time()
    data = prepare_tuning_data(settings.work)
    # as many pretraining images as the bench uses, drawn from the training part alone
    train_images = sum(1 for _ in (data["solo"] / "train").rglob("*.png"))
    tuning = replace(
        settings, fraction=min(1.0, settings.fraction * 60000 / train_images), work=settings.work / "tuning"
    )
    result = TuningResult(
        {
            **context,
            "lr_factors": list(lr_factors),
            "seed": settings.seeds[0],
            "epochs": settings.solo_epochs,
            "clip_epochs": settings.open_clip_epochs,
            "fraction": tuning.fraction,
            "train_images": train_images,
            "eval_train": settings.eval_train,
            "eval_test": settings.eval_test,
        }
    )
    earlier = earlier_trials(out / "tuning.json")
    data_minutes = (time.time() - started) / 60

    def runner(group: Dict[str, List[Trial]], name: str):
        group[name] = []

        def run(trial: Trial, train, score) -> Trial:
            group[name].append(run_trial(trial, train, score, earlier))
            record_progress(result, earlier, data_minutes)
            write_json(out / "tuning.json", asdict(result))
            return group[name][-1]

        return run

    for variant in settings.methods:
        tune_solo(variant, tuning, data["solo"], lr_factors, runner(result.solo, variant))
    for loss in settings.clip_losses:
        tune_clip(loss, tuning, data["clip"], lr_factors, runner(result.clip, loss))
    write_tuning_report(result, out)
    return result


def grid_edges(chosen: Trial, group: Sequence[Trial]) -> List[str]:
    """Which of the chosen values lie at an end of what was tried: the optimum may lie beyond."""
    edges = []
    for name, attribute in (("learning rate", "lr"), ("value of the key hyperparameter", "value")):
        tried = sorted({getattr(t, attribute) for t in group if getattr(t, attribute) is not None})
        value = getattr(chosen, attribute)
        if len(tried) > 1 and value in (tried[0], tried[-1]):
            end = "lowest" if value == tried[0] else "highest"
            edges.append(f"the {end} {name} tried")
    return edges


def loss_trend(trial: Trial) -> str:
    """``first → last (change %)`` of the trial's per-epoch training loss, or "-"."""
    losses = trial.training_loss
    if not losses:
        return "-"
    first, last = losses[0], losses[-1]
    change = f" ({(last - first) / abs(first):+.0%})" if first else ""
    return f"{first:.3g} → {last:.3g}{change}"


def write_tuning_report(result: TuningResult, out: Path) -> None:
    from solo_tricl.evaluate.measures import COLLAPSED_MEAN_ABS_CORR

    def fmt(value, digits=3):
        return "-" if value is None else f"{value:.{digits}f}"

    def rows(trials: Dict[str, List[Trial]], clip: bool) -> List[str]:
        lines = [
            "| method | stage | lr | key hyperparameter | status | validation score | effective rank "
            "| mean abs corr | " + ("" if clip else "training loss, first → last epoch | ") + "minutes |",
            "|---|---|---:|---|---|---:|---:|---:|" + ("" if clip else "---:|") + "---:|",
        ]
        for variant, group in trials.items():
            chosen = best(group)
            for t in group:
                mark = " **chosen**" if t is chosen else ""
                status = t.status + (" (collapsed)" if t.collapsed else "")
                hyper = "-" if t.key is None else f"`{t.key}={t.value:g}`"
                lines.append(
                    f"| {variant}{mark} | {t.stage} | {t.lr:g} | {hyper} | {status} | {fmt(t.score)} | "
                    f"{fmt(t.effective_rank, 1)} | {fmt(t.mean_abs_corr)} | "
                    + ("" if clip else f"{loss_trend(t)} | ")
                    + fmt(t.minutes, 1)
                    + (" (part)" if t.minutes_partial else "")
                    + " |"
                )
        return lines

    def chosen_lines(trials: Dict[str, List[Trial]]) -> List[str]:
        lines = []
        for variant, group in trials.items():
            t = best(group)
            if t is None:
                lines.append(f"- `{variant}`: every setting diverged")
                continue
            hyper = f", `{t.key}={t.value:g}`" if t.key else ""
            collapsed = (
                f" (collapsed at its best setting: effective rank {t.effective_rank:.1f}"
                + (f", training loss {loss_trend(t)}" if t.training_loss else "")
                + ")"
                if t.collapsed
                else ""
            )
            edges = "".join(f"; {edge}" for edge in grid_edges(t, group))
            lines.append(f"- `{variant}`: `optimizer.lr={t.lr:g}`{hyper}{collapsed}{edges}")
        return lines

    s = result.settings
    text = "\n".join(
        [
            "# Tuning: the same budget for every method, chosen on a validation split",
            "",
            f"Command: `{s['command']}` ({result.minutes:.0f} minutes on {s['machine']}: the minutes of every "
            "trial, each as it was measured when it trained, and of preparing the data; a tuning that was stopped "
            "and run again reuses the trials it had finished"
            + (
                "; a trial marked (part) counts only the last invocation's time on it: it was interrupted and "
                "resumed, or trained by an invocation that recorded no time)."
                if any(t.minutes_partial for g in (result.solo, result.clip) for ts in g.values() for t in ts)
                else ")."
            ),
            "",
            f"solo-learn: each method from its shipped Fashion-MNIST config, seed {s['seed']}, {s['epochs']} epochs on "
            f"a stratified {s['fraction']:.4f} of {s['train_images']:,} training images (as many as the bench "
            "pretrains on), the other training images held out: the learning rate at the shipped value times "
            f"{', '.join(f'{f:g}' for f in s['lr_factors'])}, then the method's key hyperparameter at two values "
            "around the shipped one, at the best learning rate. Score: solo-learn's kNN (20 neighbours, T 0.07) on "
            f"the backbone features, fitted on {s['eval_train']:,} training images and scored on {s['eval_test']:,} "
            "validation images held out of the training set; the test images are never read. OpenCLIP: each "
            f"loss at the bench's learning rate times the same factors, {s['clip_epochs']} epochs, scored by "
            "zero-shot accuracy on captioned images held out of its training images.",
            "",
            "Effective rank and mean |corr| are measured on the validation features; a run is marked collapsed "
            f"when their mean |corr| exceeds {COLLAPSED_MEAN_ABS_CORR:g}. The training loss is the mean of the method's own objective over "
            "the first and the last epoch: an objective that hardly falls did not train in the budget, one that "
            "falls into a low effective rank trained into a collapse.",
            "",
            "## solo-learn",
            "",
            *rows(result.solo, clip=False),
            "",
            "## OpenCLIP",
            "",
            *rows(result.clip, clip=True),
            "",
            "## Chosen (the shipped configs and the bench's CLIP learning rates hold these)",
            "",
            *chosen_lines(result.solo),
            *chosen_lines(result.clip),
            "",
            "Every number: `tuning.json`.",
            "",
        ]
    )
    write_text(out / "tuning.md", text)
    print(text)


def load_tuning(path: Path) -> TuningResult:
    saved = json.loads(Path(path).read_text())
    return TuningResult(
        saved["settings"],
        {v: [Trial(**t) for t in ts] for v, ts in saved["solo"].items()},
        {v: [Trial(**t) for t in ts] for v, ts in saved["clip"].items()},
        saved["minutes"],
        [Trial(**t) for t in saved.get("pending", [])],
    )
