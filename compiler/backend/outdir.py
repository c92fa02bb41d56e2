"""OUT as one unit: which files in it flowc owns, and replacing it whole (`flowc compile`).

Ownership is proved, not assumed. Every build writes a record, OUT/.flowc-build.json, listing each file it
wrote with the SHA-256 of its content. A later build replaces or removes a file only if the record lists it
and its content still matches; anything else in OUT is the user's and is carried over untouched (hard-linked
into the new OUT). A non-empty OUT without a record was not made by flowc and is refused (FC902); a recorded
file whose content changed is refused (FC903) rather than lost; a file of the user's where the new build
needs one of its own is refused (FC904).

All or nothing: the new OUT is built whole in a sibling directory (`.OUT.flowc-XXXX`, same parent, so the
same file system), then swapped in with one atomic rename (Linux renameat2 RENAME_EXCHANGE; elsewhere two
renames), then the old one is taken apart file by file under the same ownership rules. A compile killed at
any moment leaves OUT either the old build or the new one, plus a sibling directory that carries flowc's
marks (a `.flowc-staging` file while it is being built, the build record once it has been swapped out); the
next compile takes those apart the same way. An advisory lock beside OUT (`.OUT.flowc-lock`, fcntl.flock,
released by the kernel when its holder dies) makes concurrent compiles into one OUT take turns.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowc import __version__
from flowc.core.files import FileProblem, read_regular, shown_name

RECORD = ".flowc-build.json"
STAGING_MARK = ".flowc-staging"
STAGING_TEXT = b"flowc is building this directory; it becomes OUT when complete\n"
RECORD_FORMAT = 1


@dataclass
class Swap:
    """What replacing OUT did: files written and removed (relative to OUT), warnings for the user."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _prefix(out: Path) -> str:
    return f".{out.name[:200]}.flowc-"


def lock_path(out: Path) -> Path:
    return out.parent / f"{_prefix(out)}lock"


@contextlib.contextmanager
def out_lock(out: Path) -> Iterator[None]:
    """Hold the advisory lock of OUT: a second compile waits here until the first has swapped its build in."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): compiles are not serialised there
        yield
        return
    fd = os.open(lock_path(out), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock; the lock file stays (removing it would race a waiter)


def replace_out(out: Path, outputs: dict[str, bytes]) -> Swap:
    """Make OUT hold exactly `outputs` ({relative path: content}) plus the user's own files already in it."""
    out = Path(os.path.realpath(out))  # a symlinked OUT: replace the directory it points to, keep the link
    out.parent.mkdir(parents=True, exist_ok=True)
    swap = Swap()
    with out_lock(out):
        swap.warnings.extend(clean_leftovers(out))
        previous, carried = survey(out)
        _refuse_collisions(out, outputs, carried)
        staging = stage(out, outputs, carried)
        try:
            existed = exchange(staging, out)
        except BaseException:
            take_apart(staging, out)
            raise
        (out / STAGING_MARK).unlink(missing_ok=True)
        if existed:
            swap.warnings.extend(take_apart(staging, out))
    swap.written = sorted(outputs)
    swap.removed = sorted(set(previous) - set(outputs))
    return swap


# -- what is in OUT now ----------------------------------------------------------------------------------------

def read_record(directory: Path) -> dict[str, str] | None:
    """The files a build record lists, {relative path: digest}; None when there is no valid record."""
    try:
        data = json.loads(read_regular(directory / RECORD, 64 * 1024 * 1024))
        files = data["files"]
    except (OSError, FileProblem, ValueError, TypeError, KeyError):
        return None
    if not isinstance(files, dict) or data.get("format") != RECORD_FORMAT:
        return None
    return {path: value for path, value in files.items()
            if isinstance(path, str) and isinstance(value, str) and _plain_relative(path)}


def _plain_relative(path: str) -> bool:
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts and path not in (RECORD, STAGING_MARK)


def walk(directory: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry below `directory` as (relative path, lstat), parents before children; symlinks are
    entries, never followed."""
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(directory / relative if relative else directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = f"{relative}/{entry.name}" if relative else entry.name
                info = entry.stat(follow_symlinks=False)
                yield path, info
                if stat.S_ISDIR(info.st_mode):
                    pending.append(path)


def survey(out: Path) -> tuple[dict[str, str], dict[str, int]]:
    """(files flowc owns in OUT, {relative path: mode} of everything else, the user's). Refuses an OUT that
    flowc did not make (FC902) and one where a file flowc wrote was changed (FC903)."""
    try:
        info = out.lstat()
    except FileNotFoundError:
        return {}, {}
    if not stat.S_ISDIR(info.st_mode):
        raise FileProblem("FC902", f"`{shown_name(out)}` exists and is not a directory",
                          "name a directory (new or empty) for OUT")
    _remove_stale_mark(out)
    with os.scandir(out) as entries:
        if not any(entries):
            return {}, {}
    record = read_record(out)
    if record is None:
        raise FileProblem(
            "FC902", f"`{shown_name(out)}` is not empty and flowc did not make it (it has no {RECORD} build "
            "record): nothing was written", "name a new or empty directory for OUT, or move these files "
            "elsewhere; an OUT that an earlier flowc wrote has no record either: delete it and compile again")
    owned: dict[str, str] = {}
    carried: dict[str, int] = {}
    changed: list[str] = []
    for relative, entry in walk(out):
        if relative in (RECORD, STAGING_MARK):
            continue
        expected = record.get(relative)
        if expected is None:
            carried[relative] = entry.st_mode
        elif stat.S_ISREG(entry.st_mode) and digest(read_regular(out / relative, -1)) == expected:
            owned[relative] = expected
        else:
            changed.append(relative)
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise FileProblem(
            "FC903", f"`{shown_name(out / changed[0])}`{more} was changed since flowc wrote it; nothing was "
            "written, so the change is not lost", "flowc regenerates every file it wrote: move your change out "
            "of OUT (your own code belongs in the hooks module), or delete the file, then compile again")
    return owned, carried


def _remove_stale_mark(out: Path) -> None:
    """A compile killed right after its swap leaves the staging mark in the new OUT: it is flowc's, drop it."""
    mark = out / STAGING_MARK
    with contextlib.suppress(OSError, FileProblem):
        if read_regular(mark, len(STAGING_TEXT) + 1) == STAGING_TEXT:
            mark.unlink()


def _refuse_collisions(out: Path, outputs: dict[str, bytes], carried: dict[str, int]) -> None:
    """FC904: a file of the user's stands where this build must write one (or a directory it needs)."""
    for relative in sorted(outputs):
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            mode = carried.get(prefix)
            if mode is not None and (depth == len(parts) or not stat.S_ISDIR(mode)):
                raise FileProblem(
                    "FC904", f"`{shown_name(out / prefix)}` is not a file flowc wrote, and this build needs to "
                    f"write `{relative}` there: nothing was written", "move your file elsewhere (your own "
                    "code belongs in the hooks module beside OUT), then compile again")


# -- building the new OUT beside it ------------------------------------------------------------------------------

def stage(out: Path, outputs: dict[str, bytes], carried: dict[str, int]) -> Path:
    """Write the whole new OUT into a marked sibling directory: the mark first, then the record (the plan
    of every file this build writes), the files, and hard links to the user's files."""
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=_prefix(out)))
    try:
        _write_new(staging / STAGING_MARK, STAGING_TEXT)
        record = {"format": RECORD_FORMAT, "flowc": __version__,
                  "files": {path: digest(data) for path, data in sorted(outputs.items())}}
        _write_new(staging / RECORD, (json.dumps(record, indent=1) + "\n").encode())
        for relative, data in sorted(outputs.items()):
            _write_new(staging / relative, data)
        for relative, mode in carried.items():  # walk order: a directory comes before what it holds
            _carry(out / relative, staging / relative, mode)
        os.chmod(staging, stat.S_IMODE(out.stat().st_mode) if out.is_dir() else 0o777 & ~_umask())
    except BaseException:
        take_apart(staging, out)
        raise
    return staging


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _carry(source: Path, target: Path, mode: int) -> None:
    """Bring one of the user's entries into the new OUT: the same file (a hard link), never a rewrite."""
    if stat.S_ISDIR(mode):
        target.mkdir(exist_ok=True)
        os.chmod(target, stat.S_IMODE(mode))
        return
    try:
        _same_file(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(source), target)
        elif stat.S_ISREG(mode):
            shutil.copy2(source, target)
        else:
            raise FileProblem("FC904", f"`{shown_name(source)}` cannot be carried into the new OUT "
                              f"({error.strerror})", "move it out of OUT, then compile again") from None


def _same_file(source: Path, target: Path) -> None:
    """A second name for `source` (a symlink itself, not what it points to); where links cannot be made
    without following symlinks (Windows), an OSError with ENOTSUP sends the caller to its fallback."""
    try:
        os.link(source, target, follow_symlinks=False)
    except NotImplementedError:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP), str(target)) from None


# -- the swap -------------------------------------------------------------------------------------------------

AT_FDCWD, RENAME_NOREPLACE, RENAME_EXCHANGE = -100, 1, 2


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """Linux renameat2(2) through ctypes; False where it is not available (another OS, an old kernel or C
    library, a file system without the flag), so the caller falls back to plain renames."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if function(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def exchange(staging: Path, out: Path) -> bool:
    """Put the staged build at OUT in one step; the old OUT (if any) ends at the staging path. Returns
    whether there was an old OUT. A mount point cannot be renamed: FC910."""
    try:
        return _exchange(staging, out)
    except OSError as error:
        if error.errno not in (errno.EBUSY, errno.EXDEV):
            raise
        raise FileProblem("FC910", f"`{shown_name(out)}` cannot be replaced as a whole ({error.strerror}): it is "
                          "probably a mount point; nothing was written", "compile into a directory inside it "
                          f"instead, such as `-o {shown_name(out / 'build')}`") from None


def _exchange(staging: Path, out: Path) -> bool:
    if not os.path.lexists(out):
        if not _renameat2(staging, out, RENAME_NOREPLACE):
            os.rename(staging, out)
        return False
    if _renameat2(staging, out, RENAME_EXCHANGE):
        return True
    # Without an exchange: two renames. A kill between them leaves no OUT, with the old build in a marked
    # sibling; the next compile puts a complete build back (see clean_leftovers).
    aside = Path(tempfile.mkdtemp(dir=out.parent, prefix=_prefix(out)))
    os.rmdir(aside)
    os.rename(out, aside)
    os.rename(staging, out)
    os.rename(aside, staging)
    return True


# -- taking a former or unfinished OUT apart ----------------------------------------------------------------

def clean_leftovers(out: Path) -> list[FileProblem]:
    """Take apart the marked siblings of OUT that an interrupted compile left (called with the lock held)."""
    warnings: list[FileProblem] = []
    # exactly the names mkdtemp gives (8 characters after the prefix): never the staging directory of
    # another OUT whose own name happens to start like this one's (`out.flowc-x`)
    shape = re.compile(re.escape(_prefix(out)) + "[a-z0-9_]{8}")
    siblings = sorted(p for p in out.parent.iterdir() if shape.fullmatch(p.name) and stat.S_ISDIR(p.lstat().st_mode))
    if not os.path.lexists(out):  # killed between the two fallback renames: a complete build goes back
        for sibling in siblings:
            if read_record(sibling) is not None and not (sibling / STAGING_MARK).exists():
                os.rename(sibling, out)
                siblings.remove(sibling)
                break
    for sibling in siblings:
        warnings.extend(take_apart(sibling, out))
    return warnings


def take_apart(directory: Path, out: Path) -> list[FileProblem]:
    """Remove what is provably flowc's from a staging directory or a former OUT, and nothing else. A file is
    flowc's if the directory's record lists it with its current content, if it is the same file (a hard
    link) or the same content as the user's file at that path in OUT, or if the directory never was OUT (it
    carries the staging mark) and its record planned it. Anything else is moved into OUT when that path is
    free there, or left in place with a warning."""
    record = read_record(directory)
    unfinished = _has_mark(directory)
    if record is None and not unfinished:
        with contextlib.suppress(OSError):
            directory.rmdir()  # an empty directory only: it holds nothing to lose
        return []
    record = record or {}
    kept: list[str] = []
    directories: list[str] = []
    for relative, info in list(walk(directory)):
        if relative in (RECORD, STAGING_MARK):
            continue
        if stat.S_ISDIR(info.st_mode):
            directories.append(relative)
        elif _is_flowcs(directory, out, relative, info, record, unfinished):
            os.unlink(directory / relative)
        elif not _move_into(directory / relative, out, relative):
            kept.append(relative)
    for relative in reversed(directories):  # children before their parents
        with contextlib.suppress(OSError):
            os.rmdir(directory / relative)
    if kept:
        return [FileProblem("FC909", f"kept `{shown_name(directory)}`: it holds {len(kept)} file(s) flowc "
                            f"cannot prove it wrote, such as `{kept[0]}`", "look through it, keep what you "
                            "need, then delete it", warning=True)]
    (directory / RECORD).unlink(missing_ok=True)
    if unfinished:
        (directory / STAGING_MARK).unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()
    return []


def _has_mark(directory: Path) -> bool:
    try:
        return read_regular(directory / STAGING_MARK, len(STAGING_TEXT) + 1) == STAGING_TEXT
    except (OSError, FileProblem):
        return False


def _is_flowcs(directory: Path, out: Path, relative: str, info: os.stat_result, record: dict[str, str],
               unfinished: bool) -> bool:
    if unfinished and relative in record:
        return True  # planned by a build that never became OUT: possibly half written, never anyone's
    regular = stat.S_ISREG(info.st_mode)
    if regular and relative in record and digest(read_regular(directory / relative, -1)) == record[relative]:
        return True
    try:
        twin = (out / relative).lstat()
    except OSError:
        return False
    if (twin.st_dev, twin.st_ino) == (info.st_dev, info.st_ino):
        return True  # the user's file, carried into OUT as a hard link: it lives on there
    if regular and stat.S_ISREG(twin.st_mode) and twin.st_size == info.st_size:
        return read_regular(out / relative, -1) == read_regular(directory / relative, -1)  # carried as a copy
    if stat.S_ISLNK(info.st_mode) and stat.S_ISLNK(twin.st_mode):
        return os.readlink(out / relative) == os.readlink(directory / relative)
    return False


def _move_into(source: Path, out: Path, relative: str) -> bool:
    """Move a file that appeared in the old OUT while the new one was built into the new OUT, never
    replacing anything there (nor through a symlink out of it). False when that is not possible; the file
    then stays where it is."""
    target = out / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(out):
            return False
        _same_file(source, target)
    except OSError:
        return False
    os.unlink(source)
    return True


def create_beside(out: Path, path: Path, data: bytes) -> bool:
    """Create `path` (the hooks module beside OUT) whole, never replacing anything there, not even a dangling
    symlink: the file is written in a marked sibling of OUT and hard-linked into place, so a kill leaves at
    most a leftover the next compile removes. Returns False when the name was taken. Call with the lock."""
    out = Path(os.path.realpath(out))
    workshop = Path(tempfile.mkdtemp(dir=out.parent, prefix=_prefix(out)))
    try:
        _write_new(workshop / STAGING_MARK, STAGING_TEXT)
        record = {"format": RECORD_FORMAT, "flowc": __version__, "files": {path.name: digest(data)}}
        _write_new(workshop / RECORD, (json.dumps(record) + "\n").encode())
        _write_new(workshop / path.name, data)
        try:
            os.link(workshop / path.name, path)
        except FileExistsError:
            return False
        except OSError as error:  # another file system (FLOWC_HOOKS elsewhere) or no hard links: O_EXCL
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            try:
                _write_new(path, data)
            except FileExistsError:
                return False
        return True
    finally:
        take_apart(workshop, out)
