"""Loading an OpenCLIP checkpoint written by ``solo-tricl clip-train`` back into its model."""

import json
from pathlib import Path
from typing import Tuple

import torch

from solo_tricl.common.run_options import RUN_OPTIONS_FILE, run_options_path
from solo_tricl.common.torch_files import load_torch_file

# the OpenCLIP model configs shipped with solo-tricl (e.g. solo-tricl-tiny)
MODEL_CONFIGS = Path(__file__).resolve().parent / "model_configs"


def run_options(checkpoint: Path) -> dict:
    """The launcher's options for the run that wrote ``checkpoint``."""
    path = run_options_path(checkpoint)
    if not path.exists():
        raise ValueError(f"no {RUN_OPTIONS_FILE} two folders above {checkpoint}: pass a "
                           "checkpoint written by solo-tricl clip-train (<logs>/<name>/checkpoints/*.pt)")
    return json.loads(path.read_text())


def load_clip(checkpoint) -> Tuple[torch.nn.Module, object, object, dict]:
    """(model in eval mode, its validation transform, its tokenizer, the run's options)."""
    import open_clip
    from argparse import Namespace

    from solo_tricl.clip.plugins import load_plugins

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    options = run_options(checkpoint)
    open_clip.add_model_config(MODEL_CONFIGS)
    state = load_torch_file(checkpoint, weights_only=False)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {checkpoint} holds no state_dict")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    model, _, preprocess = open_clip.create_model_and_transforms(options["model"])
    plugin = load_plugins().get(options["loss"])
    prepare = getattr(plugin, "prepare_model", None)
    if prepare is not None:
        prepare(model, Namespace(**options))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{checkpoint} does not fit model {options['model']}: "
                           f"{str(error).splitlines()[0]}") from None
    return model.eval(), preprocess, open_clip.get_tokenizer(options["model"]), options
