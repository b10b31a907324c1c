"""Every "not found" names its path, generated: each input path a command reads (the options its
parser types as paths, the path keys of the shipped solo-learn configs, OpenCLIP's data and resume
options) given a path that does not exist, and each folder input given an empty folder. Each must
end in one line, exit status 2, that names the path."""

from pathlib import Path

import pytest

from solo_tricl.cli import SUBCOMMANDS, build_parser, main
from tests.conftest import SOLO_LEARN_MISSING, solo_learn_available
from tests.test_bad_inputs import EVALUATE, EXPLAIN, LINEAR, OPEN_CLIP, PRETRAIN

pytestmark = pytest.mark.slow

OUTPUTS = {"out", "plot", "json", "work"}  # written, not read: a missing one is created
# a valid command line of each subcommand with a path input, {solo}/{clip}/{ckpt}/{clip_ckpt} filled in
VALID = {
    "pretrain": PRETRAIN,
    "linear": [*LINEAR, "pretrained_feature_extractor='{ckpt}'"],
    "clip-train": ["clip-train", "--loss", "tricl", "--", *OPEN_CLIP],
    "clip-zeroshot": [
        *["clip-zeroshot", "{clip_ckpt}", "--data", "{clip}/val.csv", "--classes", "{clip}/classes.json"],
        *["--top-k", "4", "--order", "activation"],  # an order that reads --train-data
    ],
    "explain": EXPLAIN,
    "evaluate": EVALUATE,
}


def path_inputs(command: str):
    """(dest, option or None for a positional) of every input ``command``'s parser types as a path."""
    parser = build_parser(command)._subparsers._group_actions[0].choices[command]
    for action in parser._actions:
        if action.dest in OUTPUTS:
            continue
        if action.type is Path or action.dest == "config_path":
            yield action.dest, (action.option_strings[0] if action.option_strings else None)


def config_path_keys(kind: str):
    """The keys of a shipped config that name a path the run reads (data folders, checkpoints)."""
    from solo_tricl.solo.cli import compose
    from solo_tricl.solo.preflight import leaves

    config = "fashion_mnist/tricl" if kind == "pretrain" else "fashion_mnist/linear"
    keys = [k for k in leaves(compose(kind, None, config, [])) if k.endswith(("_path", "feature_extractor"))]
    return keys + (["+resume_from_checkpoint"] if kind == "pretrain" else [])


def replaced(argv, option, value):
    """``argv`` with ``option``'s value (a positional: the first word after the command) replaced."""
    argv = list(argv)
    if option is None:
        argv[1] = value
    elif option.startswith("--") and option in argv:
        argv[argv.index(option) + 1] = value
        while argv[argv.index(option) + 2 :] and not argv[argv.index(option) + 2].startswith("-"):
            del argv[argv.index(option) + 2]  # the rest of a list option
    elif option.startswith("--"):
        argv += [option, value]
    else:  # a hydra key
        argv = [a for a in argv if a.split("=")[0] != option.lstrip("+")] + [f"{option}={value}"]
    return argv


def generated_cases():
    cases = []
    for command in SUBCOMMANDS:
        if command not in VALID:
            continue
        for dest, option in path_inputs(command):
            cases.append((command, option or dest, "missing"))
    if solo_learn_available():
        for kind in ("pretrain", "linear"):
            cases += [(kind, key, "missing") for key in config_path_keys(kind)]
    cases += [("clip-train", option, "missing") for option in ("--train-data", "--val-data", "--resume")]
    cases += [("explain", option, "empty") for option in ("--images", "--corpus", "--foil")]
    cases += [("evaluate", "--data", "empty"), ("pretrain", "data.train_path", "empty")]
    return cases


CASES = generated_cases()


def test_the_walk_covers_every_path_input():
    covered = {(command, option) for command, option, _ in CASES}
    assert ("explain", "--images") in covered and ("evaluate", "checkpoints") in covered
    assert ("clip-zeroshot", "--classes") in covered and ("pretrain", "--config-path") in covered
    if solo_learn_available():
        assert {("pretrain", "data.train_path"), ("linear", "pretrained_feature_extractor")} <= covered


@pytest.mark.parametrize("command,option,what", CASES, ids=[f"{c} {o} {w}" for c, o, w in CASES])
def test_a_missing_or_empty_path_is_one_line_naming_it(
    command, option, what, tmp_path, capsys, monkeypatch, fashion_mnist_folder, fashion_mnist_clip_folder, request
):
    needs_solo = command in ("pretrain", "linear", "evaluate") or (command == "explain" and what == "missing")
    if needs_solo and not solo_learn_available():
        pytest.skip(SOLO_LEARN_MISSING)
    fields = {"solo": fashion_mnist_folder, "clip": fashion_mnist_clip_folder}
    argv = VALID[command]
    if any("{ckpt}" in a for a in argv):
        fields["ckpt"] = request.getfixturevalue("tricl_run")["result"].last_checkpoint
    if any("{clip_ckpt}" in a for a in argv):
        fields["clip_ckpt"] = request.getfixturevalue("clip_tricl_checkpoint")
    argv = [a.format(**fields) for a in argv]
    path = tmp_path / f"no-such-{option.strip('-+').replace('.', '-')}"
    if what == "empty":
        path.mkdir()
    capsys.readouterr()  # what the fixtures printed
    monkeypatch.chdir(tmp_path)
    status = main(replaced(argv, None if option in ("checkpoint", "checkpoints") else option, str(path)))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, "\n".join(err[-20:])
    assert err[0].startswith(f"solo-tricl {command}: error: ") and str(path) in err[0], err[0]
