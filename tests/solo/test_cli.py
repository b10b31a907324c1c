"""The command line with real solo-learn: pretrain, linear, solo-learn's own main_pretrain.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from solo_tricl.cli import main
from tests.solo.helpers import needs_solo_learn, quote, tiny_overrides

pytestmark = needs_solo_learn
PACKAGED = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.slow
def test_pretrain_cli_trains_tricl_and_plots_the_importance_curve(fashion_mnist_folder, tmp_path, capsys):
    plot = tmp_path / "curve.png"
    code = main(
        [
            "pretrain",
            "--config-name",
            "fashion_mnist/tricl",
            "--plot",
            str(plot),
            *tiny_overrides(fashion_mnist_folder, tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "learned importance s over 16 features" in out and "top features" in out
    assert plot.stat().st_size > 1000
    values = json.loads(plot.with_suffix(".json").read_text())
    assert len(values["s"]) == 16 and sorted(values["order"]) == list(range(16))


def test_config_errors_are_one_line_and_name_the_key(fashion_mnist_folder, tmp_path, capsys):
    overrides = tiny_overrides(fashion_mnist_folder, tmp_path, **{"method_kwargs.temperature": -1})
    assert main(["pretrain", "--config-name", "fashion_mnist/tricl", *overrides]) == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line == "solo-tricl pretrain: error: method_kwargs.temperature must be finite and > 0, got -1"


@pytest.mark.parametrize("key", ["data.train_path", "++resume_from_checkpoint"])
def test_a_missing_path_is_one_line_naming_it_and_the_working_directory(
    key, fashion_mnist_folder, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    overrides = tiny_overrides(fashion_mnist_folder, tmp_path / "out", **{key: "no/such/place"})
    assert main(["pretrain", "--config-name", "fashion_mnist/tricl", *overrides]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("solo-tricl pretrain: error: ")
    assert f"{key.lstrip('+')}=no/such/place does not exist" in err[0] and str(tmp_path) in err[0]
    assert not (tmp_path / "out").exists()


def test_an_override_of_a_key_the_config_lacks_names_the_plus_forms(fashion_mnist_folder, tmp_path, capsys):
    assert main(["pretrain", "--config-name", "fashion_mnist/tricl", "seed=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "+seed=1 +resume_from_checkpoint=PATH" in err


def test_unknown_method_lists_the_allowed_ones(fashion_mnist_folder, tmp_path, capsys):
    overrides = tiny_overrides(fashion_mnist_folder, tmp_path, method="tricll")
    assert main(["pretrain", "--config-name", "fashion_mnist/tricl", *overrides]) == 2
    err = capsys.readouterr().err
    assert "method='tricll' is not one of solo-learn's; allowed:" in err and "tricl" in err and "base" not in err


def test_unknown_shipped_config(capsys):
    assert main(["pretrain", "--config-name", "tricl"]) == 2
    assert "must be DATASET/METHOD of a shipped config" in capsys.readouterr().err


def linear_overrides(data, checkpoint):
    return [
        f"pretrained_feature_extractor={quote(str(checkpoint))}",
        f"data.train_path={quote(str(data / 'train'))}",
        f"data.val_path={quote(str(data / 'val'))}",
        "max_epochs=1",
        "optimizer.batch_size=32",
        "data.num_workers=0",
        f"++default_root_dir={quote(str(Path(checkpoint).parent))}",
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--top-k", "4", "--order", "importance"],
        ["--top-k", "4", "--order", "random"],
        ["--top-k", "4", "--order", "activation"],
    ],
)
def test_linear_cli_loads_a_checkpoint(tricl_run, fashion_mnist_folder, capsys, extra):
    checkpoint = tricl_run["result"].last_checkpoint
    code = main(
        ["linear", "--config-name", "fashion_mnist/linear", *extra, *linear_overrides(fashion_mnist_folder, checkpoint)]
    )
    out = capsys.readouterr().out
    assert code == 0 and "val_acc1:" in out
    if extra:
        assert "features of its projector output" in out
        columns = json.loads(out.split(" order): ", 1)[1].splitlines()[0])
        assert len(columns) == 4
        if extra[-1] == "importance":
            s = tricl_run["result"].method.importance().detach()
            assert columns == s.argsort(descending=True)[:4].tolist()


def test_linear_cli_rejects_k_larger_than_the_projector(tricl_run, fashion_mnist_folder, capsys):
    checkpoint = tricl_run["result"].last_checkpoint
    code = main(
        [
            "linear",
            "--config-name",
            "fashion_mnist/linear",
            "--top-k",
            "17",
            *linear_overrides(fashion_mnist_folder, checkpoint),
        ]
    )
    assert code == 2
    assert "--top-k must be in [1, 16] (the dimension of its projector output), got 17" in capsys.readouterr().err


MAIN_PRETRAIN = Path(os.environ.get("SOLO_LEARN_SRC", "/nonexistent")) / "main_pretrain.py"


@pytest.mark.slow
@pytest.mark.skipif(
    not MAIN_PRETRAIN.exists(),
    reason="set SOLO_LEARN_SRC to a solo-learn checkout: main_pretrain.py is not installed with the solo package",
)
@pytest.mark.parametrize("method", ["tricl", "ncl", "kernel"])
def test_unmodified_main_pretrain_trains_plugin_methods(method, fashion_mnist_folder, tmp_path):
    """solo-learn's own main_pretrain.py, run as a script: the .pth hook registers the methods."""
    overrides = tiny_overrides(fashion_mnist_folder, tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            str(MAIN_PRETRAIN),
            "--config-path",
            str(PACKAGED / "pretrain" / "fashion_mnist"),
            "--config-name",
            f"{method}.yaml",
            *overrides,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    checkpoints = list((tmp_path / method).glob("*/*.ckpt"))
    assert len(checkpoints) == 1
    state = torch.load(checkpoints[0], map_location="cpu", weights_only=True)["state_dict"]
    assert any(key.startswith("projector.") for key in state)
    if method == "tricl":  # s was learned: it moved away from its seeded initial value
        from lightning.pytorch import seed_everything
        from solo.args.pretrain import parse_cfg
        from solo.methods import METHODS

        from tests.solo.helpers import pretrain_cfg

        cfg = parse_cfg(pretrain_cfg("tricl", fashion_mnist_folder, tmp_path))
        seed_everything(cfg.seed)
        initial = METHODS["tricl"](cfg).importance.theta.detach()
        trained = state["loss.importance.theta"]
        assert trained.shape == initial.shape and not torch.allclose(trained, initial)


STOCK_SIMCLR = MAIN_PRETRAIN.parent / "scripts" / "pretrain" / "cifar"
CPU_OVERRIDES = [
    "wandb.enabled=False",
    "auto_resume.enabled=False",
    "optimizer.batch_size=16",
    "max_epochs=1",
    "accelerator=cpu",
    "devices='1'",
    "strategy=auto",
    "sync_batchnorm=False",
    "precision=32",
    "data.dataset=custom",
    "data.val_path=null",
    "data.num_workers=0",
]


@pytest.mark.slow
@pytest.mark.skipif(
    not (STOCK_SIMCLR / "simclr.yaml").exists(),
    reason="set SOLO_LEARN_SRC to a solo-learn checkout: its scripts/ are not installed",
)
@pytest.mark.parametrize("method", ["tricl", "ncl", "kernel"])
def test_stock_simclr_config_with_only_the_method_changed(method, fashion_mnist_folder, tmp_path):
    """solo-learn's own scripts/pretrain/cifar/simclr.yaml and main_pretrain.py, method=X (and the
    CPU settings of a machine without a GPU): SimCLR's temperature is accepted by every method."""
    result = subprocess.run(
        [
            sys.executable,
            str(MAIN_PRETRAIN),
            "--config-path",
            str(STOCK_SIMCLR),
            "--config-name",
            "simclr.yaml",
            f"method={method}",
            *CPU_OVERRIDES,
            f"data.train_path={quote(str(fashion_mnist_folder / 'train'))}",
            f"checkpoint.dir={quote(str(tmp_path))}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / method).glob("*/*.ckpt"))) == 1
    if method == "kernel":
        assert "kernel: method_kwargs.temperature=0.2 is SimCLR's temperature; it sets tau2=0.4" in result.stdout


def test_a_garbage_checkpoint_beside_args_json_is_one_line(tricl_run, fashion_mnist_folder, tmp_path, capsys):
    garbage = tmp_path / "run" / "garbage.ckpt"
    garbage.parent.mkdir()
    garbage.write_bytes(b"not a checkpoint at all")
    args_json = next(Path(tricl_run["result"].last_checkpoint).parent.glob("args.json"))
    (garbage.parent / "args.json").write_text(args_json.read_text())
    out = tmp_path / "evaluation"
    assert main(["evaluate", str(garbage), "--data", str(fashion_mnist_folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"solo-tricl evaluate: error: cannot read checkpoint {garbage}")
    assert not out.exists()


def test_evaluate_a_solo_learn_checkpoint_in_the_canonical_basis(tricl_run, fashion_mnist_folder, tmp_path, capsys):
    checkpoint = Path(tricl_run["result"].last_checkpoint)
    code = main(
        [
            "evaluate",
            str(checkpoint),
            "--data",
            str(fashion_mnist_folder),
            "--top-k",
            "4",
            "--order",
            "canonical",
            "--basis-images",
            "100",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr().err
    run = json.loads((tmp_path / "evaluation.json").read_text())["runs"][0]
    assert run["orders"]["canonical"]["label"] == "invariance (canonical basis)" and run["basis_images"] == 100
    assert len(run["invariance_spectrum"]) == 16
    assert checkpoint.with_suffix(".canonical-basis.pt").is_file()
    assert (tmp_path / "invariance-spectrum.png").is_file()


def test_overrides_may_follow_the_options(monkeypatch, capsys):
    import solo_tricl.solo.cli as solo_cli

    seen = {}

    def stop(kind, config_path, config_name, overrides):
        from solo_tricl.errors import CommandError

        seen["overrides"] = overrides
        raise CommandError("stop here")

    monkeypatch.setattr(solo_cli, "compose_with_reference", stop)
    assert (
        main(
            [
                "linear",
                "--config-name",
                "fashion_mnist/linear",
                "pretrained_feature_extractor=x.ckpt",
                "--top-k",
                "4",
                "max_epochs=1",
                "--order",
                "random",
                "data.num_workers=0",
            ]
        )
        == 2
    )
    assert seen["overrides"] == ["pretrained_feature_extractor=x.ckpt", "max_epochs=1", "data.num_workers=0"]
    assert "unrecognized" not in capsys.readouterr().err


def test_the_pointing_game_runs_on_a_solo_learn_checkpoint(tricl_run, fashion_mnist_folder, tmp_path):
    from tests.explain.test_pointing_benchmark import pointing_game

    out = tmp_path / "pointing"
    assert (
        pointing_game().main(
            [
                "--solo",
                tricl_run["result"].last_checkpoint,
                "--solo-data",
                str(fashion_mnist_folder),
                "--mosaics",
                "4",
                "--methods",
                "rise",
                "ig",
                "--rise-masks",
                "40",
                "--corpus-size",
                "5",
                "--foil-size",
                "20",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads((out / "cocoa_pointing.json").read_text())
    assert report["encoders"]["solo-learn"]["sizing"].startswith("tiles of 28 px (training crop 28 px)")
    assert set(report["encoders"]["solo-learn"]["scores"]) == {"rise", "ig"}


def test_the_deletion_gap_study_runs_on_a_solo_learn_checkpoint(tricl_run, fashion_mnist_folder, tmp_path):
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "cocoa_deletion_gap.py"
    spec = importlib.util.spec_from_file_location("cocoa_deletion_gap", script)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    out = tmp_path / "gap"
    assert (
        study.main(
            [
                tricl_run["result"].last_checkpoint,
                "--data",
                str(fashion_mnist_folder),
                "--explicands",
                "2",
                "--variants",
                "16 steps/samples",
                "order by mean abs(a)",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads((out / "cocoa_deletion_gap.json").read_text())
    assert set(report["rows"]) == {
        "16 steps/samples | ig",
        "16 steps/samples | gradshap",
        "order by mean abs(a) | ig",
        "order by mean abs(a) | gradshap",
    }
    assert report["gradient_norm_along_path"]["label_free"]["1.0"] < 1e-4  # maximal at the explicand
    assert "| 16 steps/samples | ig |" in (out / "cocoa_deletion_gap.md").read_text()


@pytest.mark.parametrize(
    "order,name",
    [("pca", "principal components"), ("prefix", "prefix"), ("activation", "activation mass"), ("random", "random")],
)
def test_evaluate_in_every_order(order, name, tricl_run, fashion_mnist_folder, tmp_path, capsys):
    checkpoint = Path(tricl_run["result"].last_checkpoint)
    code = main(
        [
            "evaluate",
            str(checkpoint),
            "--data",
            str(fashion_mnist_folder),
            "--top-k",
            "4",
            "--order",
            order,
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "evaluation.json").read_text())
    run = report["runs"][0]
    assert report["order"] == order and run["orders"][order]["label"] == name
    assert "4" in run["orders"][order]["curves"]["knn"] and "4" in run["random"]["knn"]
