"""Writing outputs so that a file is either complete under its name or not there at all.

Every file the project writes goes through :func:`atomic_path`: it is written to a hidden
temporary name in the same folder, flushed to disk, and renamed over its final name only when
complete. A full disk, a read-only folder or a crash therefore never leaves a truncated file
under the final name, and never replaces a good file with a bad one. Folders are checked
writable before any work starts (:func:`require_writable_folder`).
"""

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from solo_tricl.errors import SoloTriclError


class OutputNotWritten(SoloTriclError, OSError):
    """A file or folder could not be written; whatever was under its name before is unchanged."""


def _not_written(path: Path, error: OSError) -> OutputNotWritten:
    reason = error.strerror or str(error)
    return OutputNotWritten(f"cannot write {path}: {reason} (nothing was written under that name)")


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error the temporary
    file is synced and renamed to ``path``, otherwise it is removed. An ``OSError`` becomes an
    :class:`OutputNotWritten` naming ``path``."""
    path = Path(path)
    existing = nearest_existing(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(descriptor)
        os.chmod(temporary, FILE_MODE)
    except OSError as error:
        _remove_created_folders(path.parent, existing)
        raise _not_written(path, error) from None
    temporary = Path(temporary)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        _remove_created_folders(path.parent, existing)
        if isinstance(error, OSError) and not isinstance(error, SoloTriclError):
            raise _not_written(path, error) from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# what a plain open(path, "w") would give the file (mkstemp makes it private)
FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()


def _remove_created_folders(folder: Path, existing: Path) -> None:
    """Remove the empty folders between ``folder`` and ``existing``, which this write created."""
    folder = Path(os.path.abspath(folder))
    while folder != existing and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def write_text(path, text: str) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(text)
    return Path(path)


def write_json(path, value, indent: int = 1) -> Path:
    return write_text(path, json.dumps(value, indent=indent))


def save_torch(value, path) -> Path:
    """``torch.save(value, path)``, atomically. Serialised in memory first, as Lightning does:
    torch's own file writer reports a full disk as an unexplained RuntimeError."""
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        file.write(buffer.getbuffer())
    return Path(path)


def save_figure(figure, path, **savefig_kwargs) -> Path:
    """``figure.savefig(path)``, atomically; the format is the suffix of ``path``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip(".") or "png", **savefig_kwargs)
    return path


@contextlib.contextmanager
def atomic_folder(path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` to fill; it is renamed to ``path`` when the block
    ends without error (``path`` must be absent or an empty folder), and removed otherwise."""
    path = Path(path)
    existing = nearest_existing(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(temporary, FOLDER_MODE)
    except OSError as error:
        _remove_created_folders(path.parent, existing)
        raise _not_written(path, error) from None
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        _remove_created_folders(path.parent, existing)
        if isinstance(error, OSError) and not isinstance(error, SoloTriclError):
            raise _not_written(path, error) from None
        raise


def nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def require_writable_folder(path, what: str = "output folder") -> Path:
    """Check, without leaving anything behind, that files can be created in folder ``path`` (or,
    when it does not exist yet, in its nearest existing parent, where it would be created).

    Writes and removes a probe file: permission bits do not tell (root ignores them, and a
    read-only mount overrides them). Raises :class:`OutputNotWritten` naming ``what`` and the path.
    """
    path = Path(path)
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise OutputNotWritten(f"{what} {path} cannot be created: {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        where = "" if existing == Path(os.path.abspath(path)) else f" (in {existing})"
        raise OutputNotWritten(f"{what} {path} cannot be written{where}: {error.strerror or error}") from None
    return path
