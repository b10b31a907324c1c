"""Train each of solo-learn's methods for one step with solo-learn's own ``main_pretrain.py`` and
its own CIFAR config (``scripts/pretrain/cifar/<method>.yaml``), at a tiny size on the CPU.

    python train_with_solo_learn.py SOLO_LEARN_SRC DATA OUT METHOD... > OUT/checkpoints.json

``main_pretrain.py`` is imported once and its ``main`` run for each method on the config hydra
composes from that file, as ``python main_pretrain.py --config-path ... --config-name ...`` would
(one process: its imports take longer than a step). Prints ``{method: checkpoint or error}``.
"""

import contextlib
import json
import sys
import traceback
from pathlib import Path

from omegaconf import OmegaConf


def scripts_by_method(solo_learn: Path) -> dict:
    """{method: its config file} of solo-learn's CIFAR pretraining configs."""
    configs = {}
    for path in sorted((solo_learn / "scripts" / "pretrain" / "cifar").glob("*.yaml")):
        method = OmegaConf.load(path).get("method")
        if method is not None:
            configs.setdefault(method, path)
    return configs


def main(solo_learn: Path, data: Path, out: Path, methods) -> dict:
    from hydra import compose, initialize_config_dir

    sys.path.insert(0, str(solo_learn))
    sys.argv = ["main_pretrain.py"]
    import main_pretrain

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.hosts.tiny import CPU, shrunk

    configs, written = scripts_by_method(solo_learn), {}
    for method in methods:
        if method not in configs:
            written[method] = {"error": f"solo-learn ships no scripts/pretrain/cifar config of {method}"}
            continue
        overrides = [
            *[o for o in CPU if "batch_size" not in o],
            "optimizer.batch_size=16",  # W-MSE whitens batches of at least whitening_size rows
            "data.dataset=custom",
            f"data.train_path='{data / 'train'}'",
            "data.val_path=null",
            f"checkpoint.dir='{out}'",
            f"++default_root_dir='{out}'",
            *EXTRA.get(method, []),
        ]
        try:
            with initialize_config_dir(str(configs[method].parent), version_base="1.2"):
                cfg = compose(configs[method].stem, overrides=overrides)
                own = {o.split("=")[0] for o in EXTRA.get(method, [])}
                smaller = [o for o in shrunk(cfg) if o.split("=")[0] not in own]
                cfg = compose(configs[method].stem, overrides=overrides + smaller)
            with contextlib.redirect_stdout(sys.stderr):
                main_pretrain.main.__wrapped__(cfg)
            (checkpoint,) = (out / method).glob("*/*.ckpt")
            written[method] = {"checkpoint": str(checkpoint)}
        except Exception as error:
            traceback.print_exc()
            written[method] = {"error": f"{type(error).__name__}: {error}"}
    return written


# a method whose tiny size needs one more change: W-MSE whitens its projections with batches of
# whitening_size rows, which need more rows than features
EXTRA = {"wmse": ["method_kwargs.proj_output_dim=4"], "mae": ["backbone.name=vit_tiny"]}


if __name__ == "__main__":
    solo_learn, data, out, *methods = sys.argv[1:]
    print(json.dumps(main(Path(solo_learn), Path(data), Path(out), methods)))
