"""Loading an OpenCLIP checkpoint, written by ``solo-tricl clip-train`` or by ``open_clip_train``
itself, back into its model."""

import contextlib
import json
import logging
from pathlib import Path
from typing import Tuple

from solo_tricl.common.run_options import (
    OPEN_CLIP_PARAMS_FILE,
    RUN_OPTIONS_FILE,
    open_clip_params_path,
    run_options_path,
)
from solo_tricl.common.torch_files import load_torch_file, state_dict_of
from solo_tricl.errors import BadInput, InputNotFound

# the OpenCLIP model configs shipped with solo-tricl (e.g. solo-tricl-tiny)
MODEL_CONFIGS = Path(__file__).resolve().parent / "model_configs"


def host_loss(params: dict) -> str:
    """The loss ``open_clip_train``'s own ``create_loss`` trained with, from its ``params.txt``:
    ``distill``, ``coca`` (a model named so), ``siglip`` or ``clip``, its order of precedence."""
    if params.get("distill_model") not in (None, "None"):
        return "distill"
    if "coca" in str(params.get("model", "")).lower():
        return "coca"
    if params.get("siglip") == "True":
        return "siglip"
    return "clip"


def read_params(path: Path) -> dict:
    """``params.txt`` as open_clip_train writes it: one ``name: value`` line per option."""
    params = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition(": ")
        params[name.strip()] = value.strip()
    return params


def run_options(checkpoint: Path) -> dict:
    """The options of the run that wrote ``checkpoint``: ``solo_tricl.json`` for a run of
    ``solo-tricl clip-train``, else open_clip_train's ``params.txt`` (its model and loss)."""
    path = run_options_path(checkpoint)
    if path.exists():
        return json.loads(path.read_text())
    params_path = open_clip_params_path(checkpoint)
    if params_path.exists():
        params = read_params(params_path)
        if "model" not in params:
            raise BadInput(f"{params_path} names no model: is it open_clip_train's params.txt?")
        return {"model": params["model"], "loss": host_loss(params)}
    raise BadInput(
        f"no {RUN_OPTIONS_FILE} or {OPEN_CLIP_PARAMS_FILE} two folders above {checkpoint}: pass a "
        "checkpoint of an OpenCLIP run as it was written (<logs>/<name>/checkpoints/*.pt)"
    )


@contextlib.contextmanager
def without_log_line(start: str):
    """Drop log records that begin with ``start`` while the block runs, whichever logger sends
    them: OpenCLIP 3.3 logs through the root logger (whose filters see only its own records),
    later versions through their module's logger, whose records reach the root logger's handlers,
    or Python's last-resort handler when it has none."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(start)

    root = logging.getLogger()
    filtered = [root, *root.handlers, *([logging.lastResort] if logging.lastResort is not None else [])]
    for target in filtered:
        target.addFilter(keep)
    try:
        yield
    finally:
        for target in filtered:
            target.removeFilter(keep)


def load_clip(checkpoint) -> Tuple[object, object, object, dict]:
    """(model in eval mode, its validation transform, its tokenizer, the run's options)."""
    import open_clip

    from solo_tricl.clip.plugins import load_plugins, options_with_defaults

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise InputNotFound(f"checkpoint {checkpoint} does not exist")
    options = run_options(checkpoint)
    open_clip.add_model_config(MODEL_CONFIGS)
    state = state_dict_of(load_torch_file(checkpoint), checkpoint)
    # a SigLIP run (--siglip) trained a logit bias, which the model must hold to load its state
    bias = {"init_logit_bias": 0.0} if "logit_bias" in state else {}
    with without_log_line("No pretrained weights loaded"):  # the weights come from the checkpoint, next
        model, _, preprocess = open_clip.create_model_and_transforms(options["model"], **bias)
    plugin = load_plugins().get(options["loss"])
    prepare = getattr(plugin, "prepare_model", None)
    if prepare is not None:
        prepare(model, options_with_defaults(options))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise BadInput(f"{checkpoint} does not fit model {options['model']}: {str(error).splitlines()[0]}") from None
    return model.eval(), preprocess, open_clip.get_tokenizer(options["model"]), options
