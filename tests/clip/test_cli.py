"""The clip-train launcher's checks and the zero-shot command."""

import json

import pytest

from solo_tricl.cli import main
from solo_tricl.clip.training_api import SUPPORTED, installed_api
from tests.clip.helpers import clip_train, open_clip, train_args  # noqa: F401

pytestmark = pytest.mark.open_clip


@pytest.fixture
def no_training(monkeypatch):
    """Fail if OpenCLIP's main were reached: every check must happen before a model is built."""
    import open_clip_train.main as train_main

    def must_not_run(argv):
        raise AssertionError("open_clip_train.main.main was called")

    monkeypatch.setattr(train_main, "main", must_not_run)


@pytest.mark.parametrize(
    "our_args,message",
    [
        (
            ["--loss", "simclr"],
            "--loss 'simclr' is not an open_clip.losses entry point; allowed: clip, kernel, mrl, ncl, tricl",
        ),
        (["--loss", "kernel", "--gamma", "3"], r"--gamma must be in (0.0, 2.0], got 3.0"),
        (["--loss", "kernel", "--kernel-temperature", "0"], "--kernel-temperature must be finite and > 0, got 0.0"),
        (
            ["--loss", "tricl", "--decorrelation-weight", "-1"],
            "--decorrelation-weight must be finite and >= 0, got -1.0",
        ),
        (["--loss", "tricl", "--decorrelation", "pca"], "--decorrelation must be one of isotropic, reference"),
        (["--loss", "ncl", "--non-neg", "tanh"], "--non-neg must be one of relu, rep_relu"),
    ],
)
def test_bad_options_are_one_line_errors_before_any_model(our_args, message, no_training, capsys):
    assert main(["clip-train", *our_args, "--", "--model", "solo-tricl-tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize(
    "open_clip_args,message",
    [
        (["--model", "coca_ViT-B-32"], "--loss tricl does not combine with --model coca_ViT-B-32 (a CoCa model"),
        (["--model", "solo-tricl-tiny", "--siglip"], "--loss tricl does not combine with --siglip"),
        (
            ["--model", "solo-tricl-tiny", "--distill-model", "RN50"],
            "--loss tricl does not combine with --distill-model",
        ),
        (
            ["--model", "solo-tricl-tiny", "--no-such-flag"],
            "open_clip_train rejects the options after --: unrecognized arguments: --no-such-flag",
        ),
    ],
)
def test_open_clip_options_our_losses_cannot_take_are_one_line(open_clip_args, message, no_training, capsys):
    assert main(["clip-train", "--loss", "tricl", "--", *open_clip_args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("resume", ["missing.pt", "garbage.pt"])
def test_a_bad_resume_is_one_line_and_leaves_no_folder(resume, tmp_path, capsys, fashion_mnist_clip_folder):
    (tmp_path / "garbage.pt").write_text("not a checkpoint")
    logs = tmp_path / "logs"
    args = train_args(fashion_mnist_clip_folder, logs, "run") + ["--resume", str(tmp_path / resume)]
    result = clip_train(["--loss", "tricl"], args, check=False)
    assert result.returncode == 2
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("solo-tricl clip-train: error: ")
    assert not (logs / "run").exists()


def test_forgetting_the_double_dash_gets_a_hint(capsys):
    assert main(["clip-train", "--loss", "tricl", "--model", "solo-tricl-tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "open_clip_train's options go after --" in err


def valid_open_clip_args(data):
    """OpenCLIP options that pass every pre-flight check (the run itself is faked)."""
    return [
        "--model",
        "solo-tricl-tiny",
        "--train-data",
        str(data / "train.csv"),
        "--csv-img-key",
        "filepath",
        "--csv-caption-key",
        "title",
        "--batch-size",
        "32",
        "--device",
        "cpu",
        "--logs",
        "none",
    ]


def test_a_patch_target_that_changed_upstream_is_an_error_not_a_silent_run(
    monkeypatch, capsys, fashion_mnist_clip_folder
):
    import open_clip_train.main as train_main

    builder = installed_api().loss_builder
    monkeypatch.delattr(train_main, builder)
    monkeypatch.setattr(train_main, "main", lambda argv: pytest.fail("OpenCLIP must not run"))
    assert main(["clip-train", "--loss", "tricl", "--", *valid_open_clip_args(fashion_mnist_clip_folder)]) == 2
    assert f"open_clip_train.main.{builder} is not the {builder} solo-tricl expects" in capsys.readouterr().err


def test_a_run_that_never_builds_our_loss_is_an_error(monkeypatch, capsys, fashion_mnist_clip_folder):
    import open_clip_train.main as train_main

    monkeypatch.setattr(train_main, "main", lambda argv: 0)  # an OpenCLIP that builds its loss elsewhere
    assert main(["clip-train", "--loss", "tricl", "--", *valid_open_clip_args(fashion_mnist_clip_folder)]) == 2
    assert f"finished without calling {installed_api().loss_builder}" in capsys.readouterr().err


def test_an_open_clip_version_neither_api_knows_is_one_line_before_any_model(monkeypatch, no_training, capsys):
    monkeypatch.setattr(open_clip, "__version__", "4.0.0")
    assert main(["clip-train", "--loss", "tricl", "--", "--model", "solo-tricl-tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "open_clip_torch 4.0.0 is installed, which solo-tricl clip-train does not support" in err
    assert f"supported: {SUPPORTED}" in err and "3.3.x" in err and "4.2.0.dev0" in err


def test_the_patched_names_are_restored_after_a_run(monkeypatch, fashion_mnist_clip_folder):
    import open_clip_train.main as train_main

    builder = installed_api().loss_builder
    originals = {name: getattr(train_main, name) for name in ("create_model_and_transforms", builder, "torch")}
    seen = {}

    def fake_main(argv):  # builds the model and the loss as OpenCLIP's main does, then stops
        seen["patched"] = {name for name, original in originals.items() if getattr(train_main, name) is not original}
        args = train_main.parse_args(argv)
        args.rank, args.world_size, args.horovod, args.distill = 0, 1, False, False
        model, _, _ = train_main.create_model_and_transforms(args.model, output_dict=True)
        if builder == "create_loss":
            train_main.create_loss(args)
        else:
            train_main.create_task(args, model=model, dist_model=None)
        return 0

    monkeypatch.setattr(train_main, "main", fake_main)
    assert main(["clip-train", "--loss", "clip", "--", *valid_open_clip_args(fashion_mnist_clip_folder)]) == 0
    assert seen["patched"] == set(originals)
    assert all(getattr(train_main, name) is original for name, original in originals.items())


@pytest.mark.slow
def test_zero_shot_reports_accuracy_and_top_k(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys):
    out = tmp_path / "zs.json"
    code = main(
        [
            "clip-zeroshot",
            str(clip_tricl_checkpoint),
            "--data",
            str(fashion_mnist_clip_folder / "val.csv"),
            "--top-k",
            "4",
            "32",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads(out.read_text())
    assert results["images"] == 100 and results["chance"] == 0.1
    assert 0 <= results["top4_importance"] <= 1
    # all 32 features, ranked by s, is the full classifier
    assert results["top32_importance"] == pytest.approx(results["accuracy"])


@pytest.mark.slow
def test_zero_shot_bad_inputs(clip_tricl_checkpoint, fashion_mnist_clip_folder, tmp_path, capsys):
    val = str(fashion_mnist_clip_folder / "val.csv")
    assert main(["clip-zeroshot", str(clip_tricl_checkpoint), "--data", val, "--top-k", "33"]) == 2
    assert "--top-k must be in [1, 32]" in capsys.readouterr().err
    assert main(["clip-zeroshot", str(tmp_path / "none.pt"), "--data", val]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(["clip-zeroshot", str(clip_tricl_checkpoint), "--data", val, "--classes", str(tmp_path / "missing.json")])
        == 2
    )
    assert "no class names" in capsys.readouterr().err


def test_a_checkpoint_saved_before_an_option_existed_still_loads(clip_tricl_checkpoint, tmp_path):
    import shutil

    from solo_tricl.clip.checkpoints import load_clip

    run = tmp_path / "logs" / "old"
    shutil.copytree(clip_tricl_checkpoint.parent.parent, run)
    saved = json.loads((run / "solo_tricl.json").read_text())
    # what a run saved before importance_init_std, the decorrelation choice and nesting were options
    old = {key: value for key, value in saved.items() if key in ("model", "loss", "decorrelation_weight", "gamma")}
    (run / "solo_tricl.json").write_text(json.dumps(old))
    model, _, _, options = load_clip(run / "checkpoints" / clip_tricl_checkpoint.name)
    assert hasattr(model, "feature_importance") and options["loss"] == "tricl"


def test_another_packages_loss_plugin_adds_its_own_flags(monkeypatch, capsys):
    """clip-train's flags come from every loaded open_clip.losses entry point's declared options,
    not from our three tables: a plugin of another package gets its flag, its default, its help
    group and the rule that the flag needs its loss."""
    from solo_tricl.cli import build_parser, main
    from solo_tricl.clip import plugins
    from solo_tricl.common.options import Option, positive_int

    ours = plugins.load_plugins()
    margin = plugins.ClipLossPlugin(
        lambda args: None,
        options={"margin_steps": Option(3, positive_int, "steps of the margin schedule", int)},
        help="another package's margin loss",
    )
    monkeypatch.setattr(plugins, "load_plugins", lambda: {**ours, "margin": margin})

    parser = build_parser("clip-train")
    args = parser.parse_args(["clip-train", "--loss", "margin", "--margin-steps", "5", "--", "--epochs", "1"])
    assert args.margin_steps == 5
    assert parser.parse_args(["clip-train", "--loss", "margin"]).margin_steps == 3
    clip_train = parser._subparsers._group_actions[0].choices["clip-train"]
    assert "--loss margin" in clip_train.format_help() and "(default 3)" in clip_train.format_help()

    assert main(["clip-train", "--loss", "clip", "--margin-steps", "5", "--", "--epochs", "1"]) == 2
    assert "--margin-steps needs --loss margin" in capsys.readouterr().err


def test_each_api_refuses_our_losses_where_it_builds_a_loss_of_its_own():
    """OpenCLIP main's create_task gives GenLIP/GenLAP/CLAP models tasks of their own, as both versions
    do CoCa models; OpenCLIP 3.3 has no GenLIP models, and its create_loss looks at CoCa only."""
    from argparse import Namespace

    from solo_tricl.clip.training_api import LOSS_FUNCTION, TASKS, refused_option

    def options(model, **given):
        return Namespace(
            **{"model": model, "siglip": False, "distill_model": None, "distill_pretrained": None, **given}
        )

    for api in (LOSS_FUNCTION, TASKS):
        assert refused_option(api, options("solo-tricl-tiny")) is None
        assert "--siglip" in refused_option(api, options("solo-tricl-tiny", siglip=True))
        assert "CoCa" in refused_option(api, options("coca_ViT-B-32"))
    assert "GenLIP" in refused_option(TASKS, options("GenLIP-ViT-B-16"))
    assert "GenLAP" in refused_option(TASKS, options("genlap-base"))
    assert "CLAP" in refused_option(TASKS, options("CLAP-HTSAT-tiny"))
    assert refused_option(LOSS_FUNCTION, options("GenLIP-ViT-B-16")) is None
