"""Loading an OpenCLIP checkpoint written by ``solo-tricl clip-train`` back into its model."""

import contextlib
import json
import logging
from pathlib import Path
from typing import Tuple

from solo_tricl.common.run_options import RUN_OPTIONS_FILE, run_options_path
from solo_tricl.common.torch_files import load_torch_file, state_dict_of

# the OpenCLIP model configs shipped with solo-tricl (e.g. solo-tricl-tiny)
MODEL_CONFIGS = Path(__file__).resolve().parent / "model_configs"


def run_options(checkpoint: Path) -> dict:
    """The launcher's options for the run that wrote ``checkpoint``."""
    path = run_options_path(checkpoint)
    if not path.exists():
        raise ValueError(
            f"no {RUN_OPTIONS_FILE} two folders above {checkpoint}: pass a "
            "checkpoint written by solo-tricl clip-train (<logs>/<name>/checkpoints/*.pt)"
        )
    return json.loads(path.read_text())


@contextlib.contextmanager
def without_log_line(start: str):
    """Drop the root logger's records that begin with ``start`` while the block runs."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(start)

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def load_clip(checkpoint) -> Tuple[object, object, object, dict]:
    """(model in eval mode, its validation transform, its tokenizer, the run's options)."""
    import open_clip

    from solo_tricl.clip.plugins import load_plugins, options_with_defaults

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
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
        raise ValueError(f"{checkpoint} does not fit model {options['model']}: {str(error).splitlines()[0]}") from None
    return model.eval(), preprocess, open_clip.get_tokenizer(options["model"]), options
