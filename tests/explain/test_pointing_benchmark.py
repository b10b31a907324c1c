"""benchmarks/cocoa_pointing.py at a tiny size, on a real OpenCLIP checkpoint."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cocoa_pointing.py"


def pointing_game():
    spec = importlib.util.spec_from_file_location("cocoa_pointing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_pointing_game_scores_every_method_and_target(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path):
    out = tmp_path / "out"
    assert (
        pointing_game().main(
            [
                "--clip",
                str(clip_tricl_checkpoint),
                "--clip-data",
                str(fashion_mnist_clip_folder),
                "--mosaics",
                "6",
                "--rise-masks",
                "40",
                "--figure-mosaics",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads((out / "cocoa_pointing.json").read_text())
    scores = report["encoders"]["OpenCLIP"]["scores"]
    assert set(scores) == {"rise", "ig", "gradshap"}
    for method in scores.values():
        for target in ("cocoa", "label_free"):
            assert 0 <= method[target]["pointing"] <= 1 and len(method[target]["per_mosaic_mass"]) == 6
            low, high = method[target]["pointing_ci"]
            assert low <= method[target]["pointing"] <= high
    assert "| OpenCLIP | rise |" in (out / "cocoa_pointing.md").read_text()
    assert (out / "cocoa_pointing.png").stat().st_size > 1000


def test_bad_arguments_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pointing_game().parse_args(["--clip", "x.pt"])
    assert exit_info.value.code == 2
    assert "--clip and --clip-data go together" in capsys.readouterr().err


def test_wilson_interval_brackets_the_proportion():
    low, high = pointing_game().wilson(160, 200)
    assert 0.73 < low < 0.8 < high < 0.86
