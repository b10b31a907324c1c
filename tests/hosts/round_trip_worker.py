"""Run round-trip cases of test_round_trips.py in one process, one torch thread.

    python -m tests.hosts.round_trip_worker DATA OUT CASE_ID...

Prints ``{case id: null, or the error it ended with}`` as its last line."""

import contextlib
import io
import json
import sys
import traceback
from collections import namedtuple
from pathlib import Path

CaptureResult = namedtuple("CaptureResult", "out err")


class Captured:
    """What the commands print, as pytest's capfd gives it: ``readouterr()`` returns and forgets it."""

    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()

    def readouterr(self):
        result = CaptureResult(self.out.getvalue(), self.err.getvalue())
        for stream in (self.out, self.err):
            stream.seek(0)
            stream.truncate()
        return result


def main(data: Path, out: Path, case_ids) -> dict:
    import torch

    from tests.hosts.test_round_trips import CASES, case_id, check_case

    torch.set_num_threads(1)
    cases = {case_id(case): case for case in CASES}
    found = {}
    for name in case_ids:
        folder = out / name.replace("/", "-")
        folder.mkdir(parents=True)
        capture = Captured()
        try:
            with contextlib.redirect_stdout(capture.out), contextlib.redirect_stderr(capture.err):
                check_case(cases[name], data, folder, capture)
            found[name] = None
        except Exception:  # the case's failure, reported by its test
            found[name] = f"{traceback.format_exc()}\n{capture.err.getvalue()[-3000:]}"
    return found


if __name__ == "__main__":
    data, out, *case_ids = sys.argv[1:]
    print(json.dumps(main(Path(data), Path(out), case_ids)))
