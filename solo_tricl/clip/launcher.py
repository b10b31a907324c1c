"""``solo-tricl clip-train``: OpenCLIP's own training with a plugin loss.

    solo-tricl clip-train --loss tricl [our options] -- [any open_clip_train options]

Everything after ``--`` goes to ``open_clip_train.main.main`` unchanged. Before calling it, the
launcher checks that the installed OpenCLIP is a version it supports, our options and OpenCLIP's
(read with OpenCLIP's own parser) and everything the run reads
(:mod:`solo_tricl.clip.preflight`): one-line errors, before OpenCLIP logs anything, builds a
model or writes a folder. It registers the model configs shipped with solo-tricl
(``--model solo-tricl-tiny``) and, for the run, replaces names inside ``open_clip_train.main``
the way the installed version needs (:mod:`solo_tricl.clip.training_api`: ``create_loss`` on
OpenCLIP 3.3, ``create_task`` on its main branch), restoring them after:

* ``create_model_and_transforms``: the created model gets the loss's hook (triCL's s, NCL's
  map), before OpenCLIP builds its optimizer, DDP wrapper and resume, so all three see it;
* the loss builder: the plugin's loss instead of OpenCLIP's, guarded (a non-finite loss stops
  the run; :mod:`solo_tricl.clip.guards`). A run that finishes without calling it (OpenCLIP
  changed where it builds its loss) is an error, not a silent ClipLoss run;
* ``train_one_epoch``: non-finite parameters stop the run before OpenCLIP saves them; SIGINT or
  SIGTERM save the interrupted epoch for ``--resume latest``;
* ``torch``: its ``save`` writes checkpoints atomically.

A run that fails before its first checkpoint leaves no ``<logs>/<name>`` folder behind.

One compatibility fix applies only to CPU runs with several processes: OpenCLIP passes
``device_ids=[device]`` to DDP, which torch rejects for CPU modules, so for those runs DDP is
given no device_ids (see :func:`cpu_ddp_without_device_ids`).

Under ``torchrun`` or any launcher that sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``, every
process runs this same command, as ``python -m solo_tricl.cli clip-train ...``.
"""

import argparse
import contextlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import List, Optional

from solo_tricl.clip.preflight import check_open_clip_args
from solo_tricl.common.options import flag
from solo_tricl.common.run_options import run_options_path
from solo_tricl.errors import BadInput, CommandError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a CLIP model with open_clip_train and a solo-tricl loss.\n\n"
        "  solo-tricl clip-train --loss tricl -- --model solo-tricl-tiny --train-data "
        "DIR/train.csv \\\n      --csv-img-key filepath --csv-caption-key title --epochs 2 "
        "--batch-size 32 --device cpu\n\n"
        "Options after -- are open_clip_train's own (see python -m open_clip_train.main --help)."
    )
    from solo_tricl.clip.plugins import declared_options, load_plugins

    plugins = load_plugins()
    parser.add_argument(
        "--loss", default="clip", help=f"an open_clip.losses entry point: {', '.join(sorted(plugins))} (default clip)"
    )
    requires = []
    for name, (option, users) in declared_options(plugins).items():
        group_title = f"--loss {' / '.join(users)}"
        group = next((g for g in parser._action_groups if g.title == group_title), None) or parser.add_argument_group(
            group_title, getattr(plugins[users[0]], "help", "") if len(users) == 1 else None
        )
        group.add_argument(
            flag(name),
            type=option.type,
            default=option.default,
            help=option.help + ("" if option.default is None else f" (default {option.default})"),
        )
        requires.append((flag(name), lambda args, users=users: args.loss in users, f"--loss {' or '.join(users)}"))
    parser.add_argument(
        "open_clip_args",
        nargs=argparse.REMAINDER,
        metavar="-- OPEN_CLIP_ARGS",
        help="options for open_clip_train, after --",
    )
    parser.set_defaults(_requires=requires)


def our_options(args: argparse.Namespace) -> argparse.Namespace:
    """The loss and every option the loaded plugins declare, without OpenCLIP's."""
    from solo_tricl.clip.plugins import declared_options, load_plugins

    names = ["loss", *declared_options(load_plugins())]
    return argparse.Namespace(**{name: getattr(args, name) for name in names})


def parse_open_clip_args(open_clip_argv: List[str]) -> argparse.Namespace:
    """OpenCLIP's options, read by OpenCLIP's own parser; CommandError (one line) if it refuses them."""
    import io
    from contextlib import redirect_stderr

    from open_clip_train.params import parse_args

    stderr = io.StringIO()
    try:
        with redirect_stderr(stderr):
            return parse_args(list(open_clip_argv))
    except SystemExit:
        lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
        reason = lines[-1].split("error: ", 1)[-1] if lines else "invalid options"
        raise CommandError(f"open_clip_train rejects the options after --: {reason}") from None


def check(options: argparse.Namespace, open_clip_argv: List[str]):
    """The installed OpenCLIP's training API, the plugin for ``options.loss`` and OpenCLIP's parsed
    options, after checking every option; CommandError (UnsupportedOpenCLIP) otherwise.

    Refused before anything is built or written: an OpenCLIP version the launcher does not know;
    an unknown loss or bad option; OpenCLIP options it does not parse; our losses with options
    for which OpenCLIP builds a loss of its own (``--siglip``, ``--distill-*``, a CoCa model, ...);
    a ``--resume`` file that does not exist.
    """
    from solo_tricl.clip.plugins import load_plugins
    from solo_tricl.clip.training_api import installed_api, refused_option

    api = installed_api()
    plugins = load_plugins()
    if options.loss not in plugins:
        raise CommandError(
            f"--loss {options.loss!r} is not an open_clip.losses entry point; allowed: {', '.join(sorted(plugins))}"
        )
    plugin = plugins[options.loss]
    getattr(plugin, "validate", lambda values: None)(options)
    open_clip_args = parse_open_clip_args(open_clip_argv)
    refused = None if getattr(plugin, "open_clip_loss", False) else refused_option(api, open_clip_args)
    if refused is not None:
        raise CommandError(f"--loss {options.loss} does not combine with {refused}; use --loss clip")
    check_resume(open_clip_args, options)
    check_open_clip_args(open_clip_args)
    return api, plugin, open_clip_args


def check_resume(open_clip_args: argparse.Namespace, options: argparse.Namespace) -> None:
    """``--resume FILE`` must be a complete OpenCLIP checkpoint of a run with the same model and loss."""
    from solo_tricl.common.torch_files import load_torch_file

    resume = open_clip_args.resume
    if resume is None or resume == "latest" or "://" in resume:
        return
    if not Path(resume).is_file():
        raise CommandError(f"--resume {resume} does not exist (give a checkpoint file or 'latest')")
    try:
        saved = load_torch_file(resume, "--resume")
    except BadInput as error:
        raise CommandError(str(error)) from None
    if (
        not isinstance(saved, dict)
        or not {"epoch", "state_dict", "optimizer"} <= set(saved)
        or "pytorch-lightning_version" in saved
    ):
        raise CommandError(
            f"--resume {resume} is not an open_clip_train checkpoint (it needs epoch, state_dict and optimizer)"
        )
    recorded = run_options_path(resume)
    if recorded.is_file():
        run = json.loads(recorded.read_text())
        for key, value in (("model", open_clip_args.model), ("loss", options.loss)):
            if run.get(key) != value:
                raise CommandError(f"--resume {resume} was trained with {key} {run.get(key)!r}, not {value!r}")


def cpu_ddp_without_device_ids():
    """A context under which DDP drops ``device_ids`` for CPU modules (torch requires None)."""
    import torch

    base = torch.nn.parallel.DistributedDataParallel

    class CpuFriendlyDDP(base):
        def __init__(self, module, device_ids=None, *args, **kwargs):
            if device_ids and all(torch.device(d).type == "cpu" for d in device_ids):
                device_ids = None
            super().__init__(module, device_ids, *args, **kwargs)

    @contextlib.contextmanager
    def swapped():
        torch.nn.parallel.DistributedDataParallel = CpuFriendlyDDP
        try:
            yield
        finally:
            torch.nn.parallel.DistributedDataParallel = base

    return swapped()


@contextlib.contextmanager
def restored_logging():
    """open_clip_train sets the root logger and every existing logger to INFO and adds its own
    handlers; put all of it back after the run (otherwise torch's INFO lines follow at exit)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(root_level)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))


def new_runs_without_checkpoints(logs: Optional[str], before: set) -> List[Path]:
    """Run folders under ``logs`` that this run created and that hold no checkpoint."""
    if not logs or str(logs).lower() == "none" or not Path(logs).is_dir():
        return []
    return [
        path
        for path in Path(logs).iterdir()
        if path.is_dir() and path.name not in before and not any(path.glob("checkpoints/*.pt"))
    ]


def run(args: argparse.Namespace) -> int:
    open_clip_argv = list(args.open_clip_args)
    if open_clip_argv and open_clip_argv[0] == "--":
        open_clip_argv = open_clip_argv[1:]
    from solo_tricl.clip.guards import ClipRunGuard
    from solo_tricl.clip.training_api import patched

    options = our_options(args)
    guard = ClipRunGuard()
    with guard.handling():
        try:
            api, plugin, open_clip_args = check(options, open_clip_argv)
        except ModuleNotFoundError as error:
            raise CommandError(f"{error}: install the clip extra, pip install 'solo-tricl[clip]'") from None
        if guard.requested():
            raise guard.interrupted(None)
        logs = open_clip_args.logs
        before = {p.name for p in Path(logs).iterdir()} if logs and Path(logs).is_dir() else set()
        multi_process_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and open_clip_args.device == "cpu"
        try:
            with patched(api, plugin, options, guard) as (train_main, plugin_run), restored_logging():
                with cpu_ddp_without_device_ids() if multi_process_cpu else contextlib.nullcontext():
                    result = train_main.main(open_clip_argv)
        except BaseException:
            if int(os.environ.get("RANK", "0")) == 0:
                for folder in new_runs_without_checkpoints(logs, before):
                    shutil.rmtree(folder, ignore_errors=True)
            raise
    if result == -1:
        raise CommandError("open_clip_train stopped with an error (its message is above)")
    if plugin_run.builds == 0:
        raise CommandError(
            f"open_clip_train finished without calling {api.loss_builder}: --loss {options.loss} was "
            "not used; this OpenCLIP builds its loss elsewhere"
        )
    return 0
