"""The README's shell commands, read the way a user copies them."""

import re
import shlex
from pathlib import Path
from typing import Dict, List

README = Path(__file__).resolve().parents[1] / "README.md"


def shell_variables(text: str) -> Dict[str, List[str]]:
    """``NAME="..."`` assignments in the README's bash blocks, split into arguments."""
    return {
        name: shlex.split(value.replace("\\\n", " "))
        for name, value in re.findall(r'^([A-Z_]+)="(.*?)"', text, re.S | re.M)
    }


def readme_commands(text: str = None) -> List[List[str]]:
    """Every ``solo-tricl`` command and every ``python benchmarks/...`` script of the README's
    bash blocks, in order, as argv lists (``solo-tricl`` commands without the program name,
    scripts as ``["benchmarks/x.py", ...]``): continuation lines joined, comments dropped, ``&&``
    chains split and ``$NAME`` variables expanded."""
    text = README.read_text() if text is None else text
    variables = shell_variables(text)
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if re.match(r"^[A-Z_]+=", line):
                continue
            tokens = []
            for token in shlex.split(line, comments=True):
                tokens += variables[token[1:]] if token.startswith("$") and token[1:] in variables else [token]
            command = []
            for token in tokens + ["&&"]:
                if token != "&&":
                    command.append(token)
                    continue
                if command and Path(command[0]).name == "solo-tricl":
                    commands.append(command[1:])
                elif command[:1] == ["python"] and command[1:2] and command[1].startswith("benchmarks/"):
                    commands.append(command[1:])
                command = []
    return commands
