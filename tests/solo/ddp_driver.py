"""Run by tests/solo/test_ddp_training.py as a script: Lightning's DDP launcher starts this file
again for rank 1. Trains one shipped Fashion-MNIST config on the CPU with strategy=ddp and
2 processes, and saves each rank's parameters and last loss to OUT/rank<r>.pt.

    python tests/solo/ddp_driver.py METHOD DATA OUT [OVERRIDE ...]
"""

import sys
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from solo_tricl.solo.pretrain import pretrain  # noqa: E402
from tests.solo.helpers import pretrain_cfg  # noqa: E402


class SaveRankState(Callback):
    def __init__(self, out: Path):
        self.out = out
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss))

    def on_train_end(self, trainer, module):
        state = {name: p.detach().cpu().clone() for name, p in module.named_parameters()}
        torch.save(
            {"params": state, "losses": self.losses, "world_size": trainer.world_size, "rank": trainer.global_rank},
            self.out / f"rank{trainer.global_rank}.pt",
        )


def main(method: str, data: str, out: str, *overrides: str) -> None:
    out = Path(out)
    cfg = pretrain_cfg(method, Path(data), out, devices="2", strategy="ddp", **dict(o.split("=", 1) for o in overrides))
    pretrain(cfg, [SaveRankState(out)])


if __name__ == "__main__":
    main(*sys.argv[1:])
