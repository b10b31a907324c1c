"""Train a tiny CLIP with each loss ``open_clip_train`` builds, with its own entry point
(``open_clip_train.main.main``, what ``python -m open_clip_train.main`` runs), on the CPU.

    python train_with_open_clip.py DATA OUT CASES_JSON > OUT/checkpoints.json

CASES_JSON maps a loss to the options that select it (see test_open_clip_checkpoints.py); every
run gets the same data and size options. One process: OpenCLIP's imports take longer than a run.
Prints ``{loss: checkpoint or error}``.
"""

import contextlib
import json
import sys
import traceback
from pathlib import Path


def main(data: Path, out: Path, cases: dict) -> dict:
    from open_clip_train.main import main as open_clip_train

    written = {}
    for loss, options in cases.items():
        argv = [
            *["--train-data", str(data / "train.csv"), "--csv-img-key", "filepath", "--csv-caption-key", "title"],
            *["--epochs", "1", "--batch-size", "8", "--device", "cpu", "--workers", "0", "--warmup", "1"],
            *["--seed", "0", "--logs", str(out), "--name", loss, *options],
        ]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                open_clip_train(argv)
            written[loss] = {"checkpoint": str(out / loss / "checkpoints" / "epoch_1.pt")}
        except Exception as error:
            traceback.print_exc()
            written[loss] = {"error": f"{type(error).__name__}: {error}"}
    return written


if __name__ == "__main__":
    data, out, cases = sys.argv[1:]
    print(json.dumps(main(Path(data), Path(out), json.loads(cases))))
