"""A bug is not bad input: a ``ValueError`` raised inside a library function on each subcommand's
path keeps its traceback and ends with exit status 1 and a last line saying whose bug it is and
where to report it, never the one-line exit 2 of a bad input."""

import json
from pathlib import Path

import pytest

from solo_tricl.cli import SUBCOMMANDS, main
from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available
from tests.test_bad_inputs import EVALUATE, EXPLAIN, LINEAR, OPEN_CLIP, PRETRAIN

pytestmark = pytest.mark.slow


def fake_open_clip_run(folder: Path) -> Path:
    """A run folder as open_clip_train writes it; the checkpoint is never read (the fault comes first)."""
    checkpoints = folder / "logs" / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (folder / "logs" / "run" / "params.txt").write_text("model: solo-tricl-tiny\nsiglip: False\n")
    (checkpoints / "epoch_1.pt").write_text("never read")
    return checkpoints / "epoch_1.pt"


# subcommand -> (its arguments, the library function that fails on its path, what it needs)
INJECTED = {
    "data": (["data", "fashion-mnist", "--out", "out", "--train-per-class", "1"], "PIL.Image.Image.save", ()),
    "pretrain": (PRETRAIN, "solo.args.pretrain.parse_cfg", ("solo",)),
    "linear": ([*LINEAR, "pretrained_feature_extractor='{ckpt}'"], "solo.args.linear.parse_cfg", ("solo", "ckpt")),
    "clip-train": (["clip-train", "--loss", "tricl", "--", *OPEN_CLIP], "open_clip_train.params.parse_args", ()),
    "clip-zeroshot": (
        ["clip-zeroshot", "{fake_clip}", "--data", "{clip}/val.csv"],
        "open_clip.add_model_config",
        ("fake_clip",),
    ),
    "explain": (EXPLAIN, "torch.nn.functional.conv2d", ("solo", "ckpt")),
    "evaluate": (EVALUATE, "torch.nn.functional.conv2d", ("solo", "ckpt")),
    "bench": (
        ["bench", "--methods", "simclr", "--clip-losses", "--seeds", "0", "1", "--work", "work", "--out", "out"],
        "PIL.Image.Image.save",
        ("solo",),
    ),
}


def test_every_subcommand_is_covered():
    assert set(INJECTED) == set(SUBCOMMANDS)


@pytest.mark.parametrize("command", list(INJECTED))
def test_a_value_error_in_a_library_is_a_bug_with_its_traceback_and_exit_1(
    command, monkeypatch, tmp_path, capsys, fashion_mnist_folder, fashion_mnist_clip_folder, request
):
    argv, target, needs = INJECTED[command]
    if "solo" in needs and not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    fields = {"solo": fashion_mnist_folder, "clip": fashion_mnist_clip_folder}
    if "ckpt" in needs:
        fields["ckpt"] = request.getfixturevalue("tricl_run")["result"].last_checkpoint
    if "fake_clip" in needs:
        fields["fake_clip"] = fake_open_clip_run(tmp_path)

    def fault(*args, **kwargs):
        raise ValueError("injected fault")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(target, fault)
    status = main([a.format(**fields) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1, "\n".join(err[-20:])
    # a progress bar may share the traceback's first line
    assert any(line.endswith("Traceback (most recent call last):") for line in err), "\n".join(err[-20:])
    assert "ValueError: injected fault" in err
    assert err[-1].startswith(f"solo-tricl {command}: ValueError is not a problem with your input: it is a bug in ")
    assert "report it" in err[-1] and not any(line.startswith(f"solo-tricl {command}: error:") for line in err)


def test_the_bug_line_names_the_package_whose_code_raised_it():
    from solo_tricl.errors import bug_report_line

    def raise_inside(module_name: str):
        namespace = {"__name__": module_name}
        exec("def broken():\n    raise ValueError('x')", namespace)
        try:
            namespace["broken"]()
        except ValueError as error:
            return bug_report_line(error)

    assert "a bug in solo-learn, or in how solo-tricl calls it" in raise_inside("solo.methods.base")
    assert "github.com/vturrisi/solo-learn/issues" in raise_inside("solo.methods.base")
    assert "a bug in OpenCLIP" in raise_inside("open_clip_train.main")
    assert "a bug in solo-tricl." in raise_inside("solo_tricl.evaluate.measures")


def test_a_file_system_error_is_bad_input_only_for_the_users_paths_or_the_machine(tmp_path):
    import errno

    from solo_tricl.errors import exit_status_of

    given = tmp_path / "mine"
    assert exit_status_of(FileNotFoundError(errno.ENOENT, "gone", str(given / "a.png")), [given]) == 2
    assert exit_status_of(OSError(errno.ENOSPC, "No space left on device", "/elsewhere/x"), []) == 2
    assert exit_status_of(FileNotFoundError(errno.ENOENT, "gone", "/site-packages/x/model.json"), [given]) is None
    assert exit_status_of(ValueError("anything"), [given]) is None
    assert json.dumps(exit_status_of(KeyError("k"))) == "null"
