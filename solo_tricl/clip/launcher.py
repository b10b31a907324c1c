"""``solo-tricl clip-train``: OpenCLIP's own training with a plugin loss.

    solo-tricl clip-train --loss tricl [our options] -- [any open_clip_train options]

Everything after ``--`` goes to ``open_clip_train.main.main`` unchanged. Before calling it, the
launcher checks our options and OpenCLIP's (read with OpenCLIP's own parser; one-line errors,
before any model is built or folder written), registers the model configs shipped with
solo-tricl (``--model solo-tricl-tiny``), checks that the two names it replaces are still
OpenCLIP's, and patches them inside ``open_clip_train.main`` for the run, restoring them after:

* ``create_model_and_transforms``: the created model gets the loss's hook (triCL's s, NCL's
  map), before OpenCLIP builds its optimizer, DDP wrapper and resume, so all three see it;
* ``create_loss``: returns the plugin's loss instead of OpenCLIP's. A run that finishes without
  calling it (OpenCLIP changed where it builds its loss) is an error, not a silent ClipLoss run.

One compatibility fix applies only to CPU runs with several processes: OpenCLIP 3.3 passes
``device_ids=[device]`` to DDP, which torch rejects for CPU modules, so for those runs DDP is
given no device_ids (see :func:`cpu_ddp_without_device_ids`).

Under ``torchrun`` or any launcher that sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``, every
process runs this same command, as ``python -m solo_tricl.cli clip-train ...``.
"""

import argparse
import contextlib
import os
import zipfile
from pathlib import Path
from typing import List

from solo_tricl.common.files import write_json
from solo_tricl.clip.checkpoints import MODEL_CONFIGS
from solo_tricl.common.options import flag
from solo_tricl.common.run_options import RUN_OPTIONS_FILE
from solo_tricl.errors import CommandError, PatchTargetChanged



def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a CLIP model with open_clip_train and a solo-tricl loss.\n\n"
        "  solo-tricl clip-train --loss tricl -- --model solo-tricl-tiny --train-data "
        "DIR/train.csv \\\n      --csv-img-key filepath --csv-caption-key title --epochs 2 "
        "--batch-size 32 --device cpu\n\n"
        "Options after -- are open_clip_train's own (see python -m open_clip_train.main --help)."
    )
    parser.add_argument("--loss", default="clip",
                        help="an open_clip.losses entry point: clip (default), tricl, ncl, kernel")
    from solo_tricl.clip.plugins import KERNEL_OPTIONS, NCL_OPTIONS, TRICL_OPTIONS

    for title, options in (("triCL", TRICL_OPTIONS), ("NCL", NCL_OPTIONS), ("kernel", KERNEL_OPTIONS)):
        group = parser.add_argument_group(title)
        for name, option in options.items():
            group.add_argument(flag(name), type=option.type, default=option.default,
                               help=option.help + ("" if option.default is None else f" (default {option.default})"))
    parser.add_argument("open_clip_args", nargs=argparse.REMAINDER, metavar="-- OPEN_CLIP_ARGS",
                        help="options for open_clip_train, after --")


def our_options(args: argparse.Namespace) -> argparse.Namespace:
    """The loss and every option of our losses, without OpenCLIP's."""
    from solo_tricl.clip.plugins import KERNEL_OPTIONS, NCL_OPTIONS, TRICL_OPTIONS

    names = ["loss", *TRICL_OPTIONS, *NCL_OPTIONS, *KERNEL_OPTIONS]
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
    """The plugin for ``options.loss`` and OpenCLIP's parsed options, after checking every option;
    CommandError otherwise.

    Refused before anything is built or written: an unknown loss or bad option; OpenCLIP options
    it does not parse; our losses with SigLIP (``--siglip``), distillation (``--distill-*``) or a
    CoCa model, whose losses OpenCLIP builds differently; a ``--resume`` file that does not exist.
    """
    from solo_tricl.clip.plugins import load_plugins

    plugins = load_plugins()
    if options.loss not in plugins:
        raise CommandError(f"--loss {options.loss!r} is not an open_clip.losses entry point; "
                           f"allowed: {', '.join(sorted(plugins))}")
    plugin = plugins[options.loss]
    getattr(plugin, "validate", lambda values: None)(options)
    open_clip_args = parse_open_clip_args(open_clip_argv)
    if options.loss != "clip":
        distill = open_clip_args.distill_model is not None or open_clip_args.distill_pretrained is not None
        for refused, what in ((open_clip_args.siglip, "--siglip (SigLIP's sigmoid loss)"),
                              (distill, "--distill-model/--distill-pretrained (OpenCLIP's distillation loss)"),
                              ("coca" in open_clip_args.model.lower(), f"--model {open_clip_args.model} (a CoCa "
                               "model, which needs OpenCLIP's CoCa loss)")):
            if refused:
                raise CommandError(f"--loss {options.loss} does not combine with {what}; use --loss clip")
    resume = open_clip_args.resume
    if resume is not None and resume != "latest" and "://" not in resume:
        if not Path(resume).is_file():
            raise CommandError(f"--resume {resume} does not exist (give a checkpoint file or 'latest')")
        if not zipfile.is_zipfile(resume):
            raise CommandError(f"--resume {resume} is not a torch checkpoint (not a zip archive)")
    return plugin, open_clip_args


PATCHED_NAMES = ("create_model_and_transforms", "create_loss")


def _check_patch_targets(train_main) -> None:
    import open_clip

    for name in PATCHED_NAMES:
        if getattr(train_main, name, None) is not getattr(open_clip, name, object()):
            raise PatchTargetChanged(
                f"open_clip_train.main.{name} is not open_clip.{name} in this open_clip_torch "
                f"({getattr(open_clip, '__version__', '?')}): solo-tricl's launcher patches it to install the loss "
                "and would otherwise train OpenCLIP's own loss silently; use open_clip_torch 3.3")


@contextlib.contextmanager
def patched_open_clip_train(plugin, options: argparse.Namespace):
    """``open_clip_train.main`` with the model hook and the loss installed, restored afterwards.

    Yields ``(module, calls)``; ``calls["create_loss"]`` counts how often our ``create_loss``
    ran, so a run that trained without it is caught.
    """
    import open_clip
    import open_clip_train.main as train_main

    _check_patch_targets(train_main)
    open_clip.add_model_config(MODEL_CONFIGS)
    originals = {name: getattr(train_main, name) for name in PATCHED_NAMES}
    created, calls = [], {"create_loss": 0}

    def create_and_prepare(*args, **kwargs):
        model, *transforms = originals["create_model_and_transforms"](*args, **kwargs)
        prepare = getattr(plugin, "prepare_model", None)
        if not created and prepare is not None:  # the first model is the one trained
            prepare(model, options)
        created.append(model)
        return (model, *transforms)

    def create_loss(args):
        calls["create_loss"] += 1
        args.solo_tricl = options
        if args.rank == 0 and args.logs and args.logs.lower() != "none":
            run_dir = Path(args.logs) / args.name
            run_dir.mkdir(parents=True, exist_ok=True)
            write_json(run_dir / RUN_OPTIONS_FILE, {"model": args.model, **vars(options)})
        return plugin(args)

    train_main.create_model_and_transforms = create_and_prepare
    train_main.create_loss = create_loss
    try:
        yield train_main, calls
    finally:
        for name, original in originals.items():
            setattr(train_main, name, original)


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


def run(args: argparse.Namespace) -> int:
    open_clip_argv = list(args.open_clip_args)
    if open_clip_argv and open_clip_argv[0] == "--":
        open_clip_argv = open_clip_argv[1:]
    options = our_options(args)
    try:
        plugin, open_clip_args = check(options, open_clip_argv)
    except ModuleNotFoundError as error:
        raise CommandError(f"{error}: install the clip extra, pip install 'solo-tricl[clip]'") from None
    multi_process_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and open_clip_args.device == "cpu"
    with patched_open_clip_train(plugin, options) as (train_main, calls):
        with cpu_ddp_without_device_ids() if multi_process_cpu else contextlib.nullcontext():
            result = train_main.main(open_clip_argv)
    if result == -1:
        return 1
    if calls["create_loss"] == 0:
        raise CommandError(f"open_clip_train finished without calling create_loss: --loss {options.loss} was "
                           "not used; this open_clip_torch builds its loss elsewhere")
    return 0
