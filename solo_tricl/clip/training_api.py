"""The two ways ``open_clip_train`` builds its loss, and how ``solo-tricl clip-train`` puts a
plugin's loss into each; the one module that knows which OpenCLIP version does what.

* **3.3** (``open_clip_torch`` 3.3.x on PyPI): ``open_clip_train.main.main`` calls
  ``create_loss(args)`` and ``train_one_epoch(model, data, loss, epoch, optimizer, ...)``. The
  launcher replaces ``create_loss``.
* **tasks** (OpenCLIP main, 4.2.0.dev0): ``main`` calls ``create_task(args, model=...)``, which
  picks a task class (``CLIPTask``, ``SigLIPTask``, ``CoCaTask``, ...) that holds the model as
  ``task.trainable_module`` and builds its own loss, and then
  ``train_one_epoch(state, data, args)`` with a ``TrainState``. The launcher replaces
  ``create_task``: OpenCLIP's own builds the task, and a plugin loss takes the place of its
  ``CLIPTask``'s ``loss``.

Both build the optimizer, the DDP wrapper and the checkpoints from the model alone (on the task
API from ``task.trainable_module``, which is that model), so the model hook that adds triCL's
theta runs in ``create_model_and_transforms`` for both, and both save and resume theta.

Each API names what it replaces inside ``open_clip_train.main`` and the OpenCLIP object that
name must hold; :func:`patched` refuses to run when one differs (:class:`PatchTargetChanged`)
rather than train OpenCLIP's loss silently.
"""

import argparse
import contextlib
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, Tuple

from solo_tricl.clip.checkpoints import MODEL_CONFIGS
from solo_tricl.common.files import write_json
from solo_tricl.common.run_options import RUN_OPTIONS_FILE
from solo_tricl.errors import CommandError, PatchTargetChanged, UnsupportedOpenCLIP

SUPPORTED = "3.3.x (open_clip_torch from PyPI) and 4.2.0.dev0 (OpenCLIP main at commit 89fb801)"


class PluginRun:
    """What the replacements share in one run: the plugin, our options, the guard, OpenCLIP's
    originals of the replaced names, and how often the loss builder ran."""

    def __init__(self, plugin, options: argparse.Namespace, guard, originals: Dict[str, object]):
        self.plugin, self.options, self.guard, self.originals = plugin, options, guard, originals
        self.builds = 0
        self.models = []

    @property
    def keeps_open_clip_loss(self) -> bool:
        return getattr(self.plugin, "open_clip_loss", False)

    def create_model_and_transforms(self, *args, **kwargs):
        """OpenCLIP's, then the plugin's model hook on the first model (the one trained)."""
        model, *transforms = self.originals["create_model_and_transforms"](*args, **kwargs)
        prepare = getattr(self.plugin, "prepare_model", None)
        if not self.models and prepare is not None:
            prepare(model, self.options)
        self.models.append(model)
        return (model, *transforms)

    def loss(self, args: argparse.Namespace, open_clip_loss: Callable[[], object]):
        """The run's loss, guarded: the plugin's, or ``open_clip_loss()`` for OpenCLIP's own. Records
        the run's options beside its logs and in ``args.solo_tricl``, where the plugin reads them."""
        from solo_tricl.clip.guards import GuardedLoss

        self.builds += 1
        args.solo_tricl = self.options
        self.guard.args = args
        if args.rank == 0 and args.logs and args.logs.lower() != "none":
            write_json(Path(args.logs) / args.name / RUN_OPTIONS_FILE, {"model": args.model, **vars(self.options)})
        return GuardedLoss(open_clip_loss() if self.keeps_open_clip_loss else self.plugin(args), self.guard)


class TrainingAPI:
    """One ``open_clip_train`` API: the versions that have it, the name its ``main`` builds the
    loss with, what the launcher replaces in ``open_clip_train.main``, and the OpenCLIP options
    for which it builds a loss of its own (our losses refuse them)."""

    name = ""
    loss_builder = ""

    def supports(self, version: str) -> bool:
        raise NotImplementedError

    def originals(self) -> Dict[str, object]:
        """Each name the launcher replaces, with the OpenCLIP object ``open_clip_train.main`` holds."""
        import open_clip
        import open_clip_train.train
        import torch

        return {
            "create_model_and_transforms": open_clip.create_model_and_transforms,
            "train_one_epoch": open_clip_train.train.train_one_epoch,
            "torch": torch,
        }

    def replacements(self, run: PluginRun) -> Dict[str, object]:
        from solo_tricl.clip.guards import AtomicTorch

        return {"create_model_and_transforms": run.create_model_and_transforms, "torch": AtomicTorch()}

    def refused_options(self, args: argparse.Namespace) -> Tuple[Tuple[bool, str], ...]:
        """(given, what) for each option with a loss of OpenCLIP's own."""
        distill = args.distill_model is not None or args.distill_pretrained is not None
        return (
            (args.siglip, "--siglip (SigLIP's sigmoid loss)"),
            (distill, "--distill-model/--distill-pretrained (OpenCLIP's distillation loss)"),
            ("coca" in args.model.lower(), f"--model {args.model} (a CoCa model, which needs OpenCLIP's CoCa loss)"),
        )


class LossFunctionAPI(TrainingAPI):
    """OpenCLIP 3.3: ``create_loss(args)``, and ``train_one_epoch`` with the model and optimizer."""

    name = "create_loss (OpenCLIP 3.3)"
    loss_builder = "create_loss"

    def supports(self, version: str) -> bool:
        return version.split(".")[:2] == ["3", "3"]

    def originals(self) -> Dict[str, object]:
        import open_clip

        return {**super().originals(), "create_loss": open_clip.create_loss}

    def replacements(self, run: PluginRun) -> Dict[str, object]:
        from solo_tricl.clip.guards import guarded_epoch, unwrapped

        def create_loss(args):
            return run.loss(args, lambda: run.originals["create_loss"](args))

        def train_one_epoch(model, data, loss, epoch, optimizer, scaler, scheduler, dist_model, args, tb_writer=None):
            def checkpoint():  # as OpenCLIP 3.3's main writes it
                saved = {
                    "epoch": epoch,
                    "name": args.name,
                    "state_dict": unwrapped(model).state_dict(),
                    "optimizer": optimizer.state_dict(),
                }
                return {**saved, "scaler": scaler.state_dict()} if scaler is not None else saved

            with guarded_epoch(run.guard, epoch, model, checkpoint, args):
                return run.originals["train_one_epoch"](
                    model, data, loss, epoch, optimizer, scaler, scheduler, dist_model, args, tb_writer=tb_writer
                )

        return {**super().replacements(run), "create_loss": create_loss, "train_one_epoch": train_one_epoch}


class TaskAPI(TrainingAPI):
    """OpenCLIP main: ``create_task(args, model=...)``, a task holding the model and its loss, and
    ``train_one_epoch`` with a ``TrainState``."""

    name = "create_task (OpenCLIP main, 4.2.0.dev0)"
    loss_builder = "create_task"

    def supports(self, version: str) -> bool:
        return version == "4.2.0.dev0"

    def originals(self) -> Dict[str, object]:
        import open_clip

        return {**super().originals(), "create_task": open_clip.create_task}

    def replacements(self, run: PluginRun) -> Dict[str, object]:
        from open_clip.task import CLIPTask, save_checkpoint

        from solo_tricl.clip.guards import guarded_epoch

        def create_task(args, model, *rest, **kwargs):
            task = run.originals["create_task"](args, model, *rest, **kwargs)
            if not run.keeps_open_clip_loss and type(task) is not CLIPTask:
                raise CommandError(
                    f"--loss {run.options.loss} needs OpenCLIP's CLIPTask, but --model {args.model} trains with "
                    f"its {type(task).__name__}; use --loss clip"
                )
            task.loss = run.loss(args, lambda: task.loss)
            return task

        def train_one_epoch(state, data, args, tb_writer=None):
            def checkpoint():  # without the step counters: the resumed run derives them from the epoch
                return save_checkpoint(
                    state.task, state.optimizer, epoch=state.epoch, scaler=state.scaler, name=args.name
                )

            with guarded_epoch(run.guard, state.epoch, state.task.trainable_module, checkpoint, args):
                return run.originals["train_one_epoch"](state, data, args, tb_writer=tb_writer)

        return {**super().replacements(run), "create_task": create_task, "train_one_epoch": train_one_epoch}

    def refused_options(self, args: argparse.Namespace) -> Tuple[Tuple[bool, str], ...]:
        # create_task gives these models tasks of their own, as it does CoCa (CLAP's by the model's
        # class, which these names select; create_task above refuses any other non-CLIPTask)
        name = args.model.lower()
        return super().refused_options(args) + tuple(
            (kind in name, f"--model {args.model} (a {label} model, which needs OpenCLIP's {label} task)")
            for kind, label in (("genlap", "GenLAP"), ("genlip", "GenLIP"), ("clap", "CLAP"))
        )


LOSS_FUNCTION, TASKS = LossFunctionAPI(), TaskAPI()


def installed_version() -> str:
    import open_clip

    return getattr(open_clip, "__version__", "(unknown version)")


def installed_api() -> TrainingAPI:
    """The API of the installed OpenCLIP; :class:`UnsupportedOpenCLIP` for a version neither knows."""
    version = installed_version()
    for api in (LOSS_FUNCTION, TASKS):
        if api.supports(version):
            return api
    raise UnsupportedOpenCLIP(
        f"open_clip_torch {version} is installed, which solo-tricl clip-train does not support; supported: {SUPPORTED}"
    )


def check_targets(api: TrainingAPI, train_main) -> None:
    """Every name the launcher replaces still holds OpenCLIP's object; PatchTargetChanged otherwise."""
    for name, original in api.originals().items():
        if getattr(train_main, name, None) is not original:
            raise PatchTargetChanged(
                f"open_clip_train.main.{name} is not the {name} solo-tricl expects in this OpenCLIP "
                f"({installed_version()}, {api.name}): solo-tricl's launcher replaces it to install the loss "
                f"and its guards, and would otherwise train OpenCLIP's own loss silently; supported: {SUPPORTED}"
            )


@contextlib.contextmanager
def patched(api: TrainingAPI, plugin, options: argparse.Namespace, guard) -> Iterator[Tuple[object, PluginRun]]:
    """``open_clip_train.main`` with the model hook, the plugin's loss and the guards installed the
    way ``api`` needs them, restored afterwards.

    Yields ``(module, run)``; ``run.builds`` counts how often the loss builder ran, so that a run
    that trained without it is caught.
    """
    import open_clip
    import open_clip_train.main as train_main

    check_targets(api, train_main)
    open_clip.add_model_config(MODEL_CONFIGS)
    originals = {name: getattr(train_main, name) for name in api.originals()}
    run = PluginRun(plugin, options, guard, originals)
    for name, replacement in api.replacements(run).items():
        setattr(train_main, name, replacement)
    try:
        yield train_main, run
    finally:
        for name, original in originals.items():
            setattr(train_main, name, original)


def refused_option(api: TrainingAPI, open_clip_args: argparse.Namespace) -> Optional[str]:
    """The first OpenCLIP option given for which ``api`` builds a loss of its own, or None."""
    return next((what for given, what in api.refused_options(open_clip_args) if given), None)
