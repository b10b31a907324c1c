"""Faults a machine or a cluster causes, end to end as a user meets them: SIGTERM and SIGINT
during training, a disk that fills up, a read-only folder, a truncated checkpoint, a run that
diverges. Each ends in one line and the promised exit status, with nothing lost: what was
saved before is intact, and what was interrupted resumes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available
from tests.solo.helpers import quote, tiny_overrides

pytestmark = pytest.mark.slow
needs_solo_learn = [pytest.mark.solo_learn, pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)]
REPO = Path(__file__).resolve().parents[1]


def can_mount_in_a_namespace() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


needs_namespaces = pytest.mark.skipif(
    not can_mount_in_a_namespace(),
    reason="needs unshare -rm (user and mount namespaces) to mount a small or read-only file system",
)


def solo_tricl(*argv, cwd, prefix=()):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "solo_tricl.cli", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process, timeout=600):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err.strip().splitlines()


def last_line(err):
    assert err, "nothing on stderr"
    assert "Traceback" not in "\n".join(err), "\n".join(err[-30:])
    return err[-1]


def pretrain_argv(data, checkpoints, *extra):
    overrides = tiny_overrides(data, checkpoints, max_epochs=30)
    return ["pretrain", "--config-name", "fashion_mnist/tricl", *overrides, "++enable_progress_bar=False", *extra]


def wait_for(condition, timeout=300, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended early: {process.communicate()[1][-3000:]}")
        time.sleep(0.5)
    raise AssertionError("timed out")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_a_signal_stops_pretraining_with_a_resumable_checkpoint(signum, fashion_mnist_folder, tmp_path):
    from solo_tricl.solo.checkpoints import load_method

    run = solo_tricl(*pretrain_argv(fashion_mnist_folder, tmp_path), cwd=tmp_path)
    # the Checkpointer writes args.json when training starts; the first epoch's checkpoint follows
    wait_for(lambda: list(tmp_path.glob("tricl/*/*-ep=0.ckpt")), process=run)
    run.send_signal(signum)
    status, _, err = finish(run)
    line = last_line(err)
    assert status == 128 + signum, "\n".join(err[-20:])
    assert line.startswith(f"solo-tricl pretrain: error: interrupted by {signal.Signals(signum).name}")
    (saved,) = list(tmp_path.glob("tricl/*/*-interrupted-*.ckpt"))
    assert str(saved.relative_to(tmp_path)) in line and "+resume_from_checkpoint=" in line
    assert not list(tmp_path.glob("tricl/*/*-ep=0.ckpt")), "the interrupted checkpoint replaces the previous one"
    load_method(saved)  # complete and loadable
    interrupted_at = torch.load(saved, weights_only=True)["global_step"]

    resume = line.split("resume by adding ", 1)[1].split(" to the same command")[0]
    resumed = solo_tricl(
        *pretrain_argv(fashion_mnist_folder, tmp_path),
        resume.replace('"', ""),
        "max_epochs=" + str(torch.load(saved, weights_only=True)["epoch"] + 1),
        cwd=tmp_path,
    )
    status, out, err = finish(resumed)
    assert status == 0, "\n".join(err[-30:])
    final = max(tmp_path.glob("tricl/*/*.ckpt"), key=os.path.getmtime)
    assert torch.load(final, weights_only=True)["global_step"] > interrupted_at


# SIGTERM also against OpenCLIP main (CI): SIGINT takes the same path through OpenCLIP
@pytest.mark.parametrize(
    "signum",
    [pytest.param(signal.SIGTERM, marks=pytest.mark.open_clip, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")],
)
def test_a_signal_stops_clip_training_and_resume_latest_continues(signum, fashion_mnist_clip_folder, tmp_path):
    pytest.importorskip("open_clip", reason="open_clip_torch is not installed (the clip extra)")
    from tests.clip.helpers import train_args

    argv = [
        "clip-train",
        "--loss",
        "tricl",
        "--",
        *train_args(fashion_mnist_clip_folder, tmp_path / "logs", "run", epochs=40),
    ]
    run = solo_tricl(*argv, cwd=tmp_path)
    wait_for(lambda: list((tmp_path / "logs" / "run" / "checkpoints").glob("*.pt")), process=run)
    run.send_signal(signum)
    status, _, err = finish(run)
    line = last_line(err)
    assert status == 128 + signum, "\n".join(err[-20:])
    assert f"interrupted by {signal.Signals(signum).name}" in line and "--resume latest" in line
    saved = Path(line.split("saved ", 1)[1].split(";")[0])
    state = torch.load(tmp_path / saved if not saved.is_absolute() else saved, weights_only=True)
    assert {"epoch", "state_dict", "optimizer"} <= set(state)

    resumed = solo_tricl(
        "clip-train",
        "--loss",
        "tricl",
        "--",
        *train_args(
            fashion_mnist_clip_folder, tmp_path / "logs", "run", epochs=state["epoch"] + 1, extra=["--resume", "latest"]
        ),
        cwd=tmp_path,
    )
    status, out, err = finish(resumed)
    assert status == 0, "\n".join(err[-30:])
    assert f"(epoch {state['epoch']})" in out + "\n".join(err), "resumed from the interrupted epoch"


def mounted(kind: str, folder: Path, size: str = ""):
    """A prefix that runs a command with ``folder`` on a small tmpfs or read-only, in its own namespaces."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "tmpfs":
        mount = f"mount -t tmpfs -o size={size} tmpfs {quote_shell(folder)}"
    else:
        mount = (
            f"mount --bind {quote_shell(folder)} {quote_shell(folder)} && "
            f"mount -o remount,bind,ro {quote_shell(folder)}"
        )
    return ["unshare", "-rm", "sh", "-c", f'{mount} && exec "$@"', "sh"]


def quote_shell(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
@needs_namespaces
def test_a_full_disk_keeps_the_last_good_checkpoint_and_names_the_file(fashion_mnist_folder, tmp_path):
    from solo_tricl.solo.checkpoints import load_method

    disk, kept = tmp_path / "disk", tmp_path / "kept"
    disk.mkdir()
    # room for one checkpoint of the tiny run (about 90 MB with LARS's momentum) but not two; the
    # tmpfs lives as long as the namespace, so its files are listed and copied out before it ends
    script = (
        f'mount -t tmpfs -o size=130m tmpfs {quote_shell(disk)} && {{ "$@"; status=$?; '
        f"ls -a {quote_shell(disk)}/tricl/* > {quote_shell(tmp_path / 'listing')}; mkdir {quote_shell(kept)}; "
        f"cp {quote_shell(disk)}/tricl/*/* {quote_shell(kept)}/; exit $status; }}"
    )
    run = solo_tricl(
        *pretrain_argv(fashion_mnist_folder, disk), cwd=tmp_path, prefix=["unshare", "-rm", "sh", "-c", script, "sh"]
    )
    status, _, err = finish(run)
    line = last_line(err)
    assert status == 2, "\n".join(err[-20:])
    assert "No space left on device" in line and "ep=1.ckpt" in line and "nothing was written under that name" in line
    listing = (tmp_path / "listing").read_text().split()
    assert [name for name in listing if name.endswith(".ckpt")] == [
        name for name in listing if name.endswith("ep=0.ckpt")
    ]
    assert not [name for name in listing if name.endswith(".tmp")], "no temporary file left"
    (saved,) = list(kept.glob("*-ep=0.ckpt"))
    load_method(saved)


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
@needs_namespaces
def test_a_read_only_checkpoint_folder_is_refused_before_training(fashion_mnist_folder, tmp_path):
    folder = tmp_path / "read-only"
    run = solo_tricl(*pretrain_argv(fashion_mnist_folder, folder), cwd=tmp_path, prefix=mounted("ro", folder))
    status, out, err = finish(run)
    assert status == 2 and len(err) == 1, "\n".join(err[-20:])
    assert err[0].startswith("solo-tricl pretrain: error: checkpoint.dir") and "Read-only file system" in err[0]
    assert out == ""


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_a_truncated_checkpoint_is_one_line_naming_it(tricl_run, fashion_mnist_folder, tmp_path):
    checkpoint = Path(tricl_run["result"].last_checkpoint)
    truncated = tmp_path / "run" / checkpoint.name
    truncated.parent.mkdir()
    truncated.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
    shutil.copy(checkpoint.parent / "args.json", truncated.parent / "args.json")
    for argv in (
        pretrain_argv(fashion_mnist_folder, tmp_path / "out", f"+resume_from_checkpoint={quote(str(truncated))}"),
        ["evaluate", str(truncated), "--data", str(fashion_mnist_folder)],
    ):
        status, out, err = finish(solo_tricl(*argv, cwd=tmp_path))
        assert status == 2 and len(err) == 1 and truncated.name in err[0], "\n".join(err[-20:])
        assert "Traceback" not in err[0]


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_a_diverging_run_stops_with_exit_3_and_leaves_no_empty_run(fashion_mnist_folder, tmp_path):
    argv = pretrain_argv(
        fashion_mnist_folder,
        tmp_path / "out",
        "optimizer.name=sgd",
        "optimizer.lr=1e30",
        "~optimizer.kwargs.clip_lr",
        "~optimizer.kwargs.eta",
        "~optimizer.kwargs.exclude_bias_n_norm",
    )
    status, _, err = finish(solo_tricl(*argv, cwd=tmp_path))
    line = last_line(err)
    assert status == 3, "\n".join(err[-20:])
    assert line.startswith("solo-tricl pretrain: error: training diverged in epoch 0") and "learning rate" in line
    assert "no checkpoint was saved before it" in line
    assert not list((tmp_path / "out").rglob("*.json")), "a run folder without a checkpoint is removed"


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_a_parameter_that_turns_non_finite_is_never_saved_and_the_last_good_checkpoint_stays(
    fashion_mnist_folder, tmp_path
):
    from lightning.pytorch.callbacks import Callback

    from solo_tricl.errors import TrainingDiverged
    from solo_tricl.solo.checkpoints import load_method
    from solo_tricl.solo.pretrain import pretrain
    from tests.solo.helpers import pretrain_cfg

    class PoisonInTheSecondEpoch(Callback):
        def on_train_epoch_end(self, trainer, module):
            if trainer.current_epoch == 1:
                with torch.no_grad():
                    module.backbone.bn1.running_var.fill_(float("nan"))  # a loss in train mode stays finite

    with pytest.raises(TrainingDiverged, match="buffer backbone.bn1.running_var holds NaN") as error:
        pretrain(pretrain_cfg("tricl", fashion_mnist_folder, tmp_path, max_epochs=3), [PoisonInTheSecondEpoch()])
    (kept,) = list(tmp_path.glob("tricl/*/*.ckpt"))
    assert kept.name.endswith("ep=0.ckpt") and str(kept) in str(error.value)
    method, _ = load_method(kept)
    assert all(torch.isfinite(t).all() for t in method.state_dict().values() if t.is_floating_point())


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_running_statistics_that_overflow_while_the_loss_stays_finite_stop_the_run(
    fashion_mnist_folder, tmp_path, capsys
):
    """triCL with SGD at lr 1e6 (LARS's keys removed): the loss stays finite, because BatchNorm
    normalises with the batch's statistics while training, but its running variances overflow.
    The run must stop with exit 3 naming the buffer, and keep only the finite checkpoint before."""
    from solo_tricl.cli import main
    from tests.solo.helpers import tiny_overrides

    overrides = tiny_overrides(fashion_mnist_folder, tmp_path, max_epochs=2, **{"optimizer.batch_size": 64})
    argv = ["pretrain", "--config-name", "fashion_mnist/tricl", *overrides, "++enable_progress_bar=False"]
    argv += ["optimizer.name=sgd", "optimizer.lr=1e6", "~optimizer.kwargs.clip_lr", "~optimizer.kwargs.eta"]
    status = main([*argv, "~optimizer.kwargs.exclude_bias_n_norm"])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == 3, line
    assert line.startswith("solo-tricl pretrain: error: training diverged in epoch 1 at step ")
    assert ".running_var holds Inf" in line and "buffer backbone." in line
    assert "optimizer sgd (lr 250000 after solo-learn's batch-size scaling), without LARS's" in line
    (kept,) = tmp_path.glob("tricl/*/*.ckpt")
    assert kept.name.endswith("ep=0.ckpt") and str(kept) in line
    saved = torch.load(kept, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())


@pytest.mark.open_clip
def test_a_diverging_clip_run_stops_with_exit_3_and_leaves_no_log_folder(fashion_mnist_clip_folder, tmp_path):
    pytest.importorskip("open_clip", reason="open_clip_torch is not installed (the clip extra)")
    from tests.clip.helpers import train_args

    args = train_args(fashion_mnist_clip_folder, tmp_path / "logs", "run", epochs=2)
    args[args.index("--lr") + 1] = "1e9"
    status, _, err = finish(solo_tricl("clip-train", "--loss", "tricl", "--", *args, cwd=tmp_path))
    line = last_line(err)
    assert status == 3 and "training diverged" in line, "\n".join(err[-20:])
    assert not (tmp_path / "logs" / "run").exists()


@pytest.mark.solo_learn
@pytest.mark.skipif(not solo_learn_available(), reason=SOLO_LEARN_MISSING)
def test_a_stopped_bench_resumes_its_interrupted_training_from_the_last_checkpoint(tmp_path):
    from solo_tricl.data import fashion_mnist

    if not fashion_mnist.debian_files_present():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (scripts/setup.sh does it)")
    argv = [
        "bench",
        "--methods",
        "simclr",
        "--seeds",
        "0",
        "1",
        "--epochs",
        "6",
        "--fraction",
        "0.003",
        "--clip-losses",
        "--eval-train",
        "300",
        "--eval-test",
        "100",
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(tmp_path / "out"),
    ]
    run_dir = tmp_path / "work" / "solo" / "simclr-seed0"
    bench = solo_tricl(*argv, cwd=tmp_path)
    wait_for(lambda: list(run_dir.glob("simclr/*/*-ep=1.ckpt")), process=bench)
    bench.send_signal(signal.SIGTERM)
    status, _, err = finish(bench)
    assert status == 128 + signal.SIGTERM, "\n".join(err[-20:])
    (saved,) = list(run_dir.rglob("*.ckpt"))
    stopped_at = torch.load(saved, weights_only=True)["global_step"]

    status, out, err = finish(solo_tricl(*argv, cwd=tmp_path))
    assert status == 0, "\n".join(err[-30:])
    assert f"resuming the interrupted run in {run_dir} from {saved.name}" in out
    final = json.loads((run_dir / "bench-run.json").read_text())["checkpoint"]
    assert torch.load(final, weights_only=True)["epoch"] == 5
    assert torch.load(final, weights_only=True)["global_step"] > stopped_at
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    runs = {run["seed"]: run for run in report["runs"]}
    assert runs[0]["train_seconds"] is None, "a resumed run was not timed whole"
    assert runs[1]["train_seconds"] > 0
    assert report["time"]["unrecorded"] == 1, "the resumed run's first part is not in the bench's time"
    assert "1 of them recorded no time" in (tmp_path / "out" / "bench.md").read_text()
