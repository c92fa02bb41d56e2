"""Reading and rewriting the user's files safely.

Only regular files are read (a FIFO or a device is refused before it is opened, so nothing ever waits on
one); writes are atomic (a reader never sees a half-written file, a failed write leaves the old one); a
rewrite happens only if the file still holds what was read; names that are not UTF-8 are refused. The errors
carry stable codes (FileProblem). OUT as a whole is flowc.backend.outdir's."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    import tempfile  # off the start-up path of `flowc check`, which only reads

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- reading only regular files -------------------------------------------------------------------------------

class FileProblem(Exception):
    """A file or directory flowc refuses to read or write, with a stable code and words for users. The CLI
    prints it as `flowc: error[CODE]: message` (or `warning`) and exits 2."""

    def __init__(self, code: str, message: str, help: str = "", warning: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.help, self.warning = code, message, help, warning

    def __str__(self) -> str:
        label = "warning" if self.warning else "error"
        return f"{label}[{self.code}]: {self.message}" + (f"\n  help: {self.help}" if self.help else "")


def shown_name(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 are shown as `\\xNN`."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def require_utf8_name(path: str | os.PathLike[str]) -> None:
    """Refuse a path that is not valid UTF-8 (FC908): it would reach diagnostics, the manifest and the IR,
    which are UTF-8 text, and cannot be written there faithfully."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem("FC908", f"the file name `{shown_name(path)}` is not valid UTF-8",
                          "rename it: flowc writes file names into diagnostics, the IR and the manifest, which "
                          "are UTF-8 text") from None


def kind_of(mode: int) -> str:
    kinds = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket",
             stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFLNK: "a symbolic link"}
    return kinds.get(stat.S_IFMT(mode), "not a regular file")


def not_regular(path: str | os.PathLike[str], mode: int) -> FileProblem:
    return FileProblem("FC901", f"`{shown_name(path)}` is {kind_of(mode)}, not a regular file",
                       "flowc reads only regular files: name the file itself")


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most `limit` bytes (all with -1) of a regular file. Anything else (a FIFO, a device, a socket, a
    directory) is refused before it is opened, so it can never block; the file is opened non-blocking and
    checked again, so one swapped in between is refused too. OSError (missing, unreadable) is left to the caller."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        try:
            return handle.read(limit)
        except OSError as error:  # a read error (EIO) names no file by itself
            raise OSError(error.errno, error.strerror, str(path)) from None


# -- rewriting a file only if nobody changed it -----------------------------------------------------------------

class ChangedMeanwhile(FileProblem):
    """The file is no longer what was read: it was edited while flowc worked on it, and is left as it is."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__("FC907", f"`{shown_name(path)}` changed while flowc was rewriting it: it was left as "
                         "it is, with the change", "run the command again to apply it to the new text",
                         warning=True)


def replace_if_unchanged(path: Path, expected: bytes, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically, but only if the file still holds exactly `expected` (what was read):
    the new text is staged in a temporary file first and the file compared right before the rename, so an
    edit made meanwhile (by an editor, another process) is kept and ChangedMeanwhile raised instead."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        try:
            current = read_regular(path, len(expected) + 1)
        except (OSError, FileProblem):
            current = None
        if current != expected:
            raise ChangedMeanwhile(path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
