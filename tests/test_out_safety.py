"""`flowc compile` never loses what is not its own, and OUT is always one whole build (issue 9, items 2 and 3).

Attacks: a forged manifest.json, the user's own files in OUT (new, edited, in the way), SIGKILL of a many-flow
compile around the swap and in the middle of its writing, two compiles racing into one OUT, leftovers of
interrupted compiles. Also the dedicated tests of FC902, FC903, FC904 and FC909 (see test_check_codes)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flowc import outdir
from flowc.backend.outdir import RECORD, STAGING_MARK, STAGING_TEXT, replace_out
from flowc.core.files import FileProblem

OK = "flow main {\n    hangup\n}\n"


def flowc(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=120)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def snapshot(directory: Path) -> dict[str, bytes | str]:
    """Every entry below `directory`: file contents, symlink targets, `dir` for directories."""
    found: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.is_symlink():
            found[relative] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[relative] = "dir"
        else:
            found[relative] = path.read_bytes()
    return found


def leftovers(parent: Path, name: str = "out") -> list[str]:
    prefix = f".{name}.flowc-"
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(prefix) and p.name != f"{prefix}lock")


# -- item 2: only what flowc provably wrote is replaced or removed -----------------------------------------------

def test_the_issues_reproduction_is_refused_and_nothing_is_touched(tmp_path):
    write(tmp_path / "ok.flow", OK)
    write(tmp_path / "out" / "index.html", "mine\n")
    write(tmp_path / "out" / "src" / "main.js", "x\n")
    write(tmp_path / "out" / "manifest.json", '{"documents":[{"file":"index.html"}],"generated":["src/main.js"]}\n')
    before = snapshot(tmp_path)
    result = flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error[FC902]" in result.stderr and "flowc did not make it" in result.stderr
    assert snapshot(tmp_path) == {**before, ".out.flowc-lock": b""}  # only the lock file beside OUT is new


def test_a_users_app_py_in_a_foreign_out_is_never_overwritten(tmp_path):
    write(tmp_path / "ok.flow", OK)
    write(tmp_path / "out" / "app.py", "print('my app')\n")
    result = flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "FC902" in result.stderr
    assert (tmp_path / "out" / "app.py").read_text() == "print('my app')\n"
    assert not (tmp_path / "out" / "flows").exists()


def test_an_edited_generated_file_is_refused_naming_it(tmp_path):
    write(tmp_path / "ok.flow", OK)
    assert flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path).returncode == 0
    app = tmp_path / "out" / "app.py"
    app.write_text(app.read_text() + "# my change\n")
    before = snapshot(tmp_path / "out")
    result = flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "error[FC903]" in result.stderr and "out/app.py" in result.stderr
    assert "hooks module" in result.stderr  # says how to proceed
    assert snapshot(tmp_path / "out") == before
    app.unlink()  # as the help says: delete it (or move the change out), then compile again
    assert flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path).returncode == 0 and app.is_file()


def test_a_generated_file_replaced_by_a_symlink_counts_as_changed(tmp_path):
    write(tmp_path / "ok.flow", OK)
    assert flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path).returncode == 0
    document = tmp_path / "out" / "flows" / "main.xml"
    document.unlink()
    document.symlink_to(write(tmp_path / "mine.xml", "<Response/>"))
    result = flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "FC903" in result.stderr and document.is_symlink()


def test_a_forged_record_proves_nothing(tmp_path):
    """A record listing the user's files with hashes that do not match their content (or paths outside
    OUT) makes no file flowc's."""
    write(tmp_path / "ok.flow", OK)
    victim = write(tmp_path / "victim.txt", "keep")
    write(tmp_path / "out" / "index.html", "mine")
    write(tmp_path / "out" / RECORD, json.dumps({"format": 1, "files": {
        "index.html": "sha256:" + "0" * 64, "../victim.txt": "sha256:" + "0" * 64, str(victim): "x"}}))
    result = flowc("compile", "ok.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "FC903" in result.stderr
    assert (tmp_path / "out" / "index.html").read_text() == "mine" and victim.read_text() == "keep"


def test_the_users_files_in_a_flowc_out_are_kept_as_the_same_files(tmp_path):
    write(tmp_path / "src" / "main.flow", "flow first {\n    hangup\n}\n")
    out = tmp_path / "out"
    assert flowc("compile", "src", "-o", "out", cwd=tmp_path).returncode == 0
    notes = write(out / "notes.txt", "mine")
    write(out / "static" / "logo.svg", "<svg/>")
    (out / "empty").mkdir()
    (out / "link").symlink_to("notes.txt")
    inode = notes.stat().st_ino
    write(tmp_path / "src" / "main.flow", "flow second {\n    hangup\n}\n")
    result = flowc("compile", "src", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (out / "flows" / "first.xml").exists() and (out / "flows" / "second.xml").is_file()
    assert notes.read_text() == "mine" and notes.stat().st_ino == inode  # the same file, not a copy
    assert (out / "static" / "logo.svg").read_text() == "<svg/>" and (out / "empty").is_dir()
    assert os.readlink(out / "link") == "notes.txt"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("in_the_way", ["file", "directory", "file where a directory is needed"])
def test_a_users_file_where_the_build_must_write_is_refused(tmp_path, in_the_way):
    write(tmp_path / "src" / "main.flow", OK)
    out = tmp_path / "out"
    assert flowc("compile", "src", "-o", "out", cwd=tmp_path).returncode == 0
    if in_the_way == "file":
        write(out / "flows" / "second.xml", "my notes")
    elif in_the_way == "directory":
        write(out / "flows" / "second.xml" / "mine.txt", "my notes")
    else:
        (out / "flows" / "main.xml").unlink()
        (out / "flows").rmdir()
        write(out / "flows", "a file of mine named flows")
    before = snapshot(out)
    write(tmp_path / "src" / "main.flow", OK + "flow second {\n    hangup\n}\n")
    result = flowc("compile", "src", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "error[FC904]" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_an_empty_or_new_out_is_fine_and_a_symlinked_out_keeps_its_link(tmp_path):
    write(tmp_path / "ok.flow", OK)
    (tmp_path / "empty").mkdir()
    assert flowc("compile", "ok.flow", "-o", "empty", cwd=tmp_path).returncode == 0
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    for _ in range(2):
        assert flowc("compile", "ok.flow", "-o", "link", cwd=tmp_path).returncode == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "flows" / "main.xml").is_file()
    assert leftovers(tmp_path, "real") == []


def test_empty_out_name_is_a_usage_error(tmp_path):
    write(tmp_path / "ok.flow", OK)
    result = flowc("compile", "ok.flow", "-o", "", cwd=tmp_path)
    assert result.returncode == 2 and "-o/--out" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.flow"]


# -- item 3: all or nothing, leftovers, races ----------------------------------------------------------------

def project(directory: Path, flows: int, files: int, word: str) -> Path:
    per_file = flows // files
    for f in range(files):
        write(directory / f"part{f}.flow", "".join(
            f'flow p{f}_{i} {{\n    say "{word} {i}"\n    gather max 1 timeout 5s {{\n        say "press"\n    }}\n'
            f"    hangup\n}}\n" for i in range(per_file)))
    return directory


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two versions of a many-flow project and what each compiles to (the reference builds)."""
    root = tmp_path_factory.mktemp("many")
    versions = {}
    for word in ("old", "new"):
        source = project(root / word, 600, 6, word)
        reference = root / f"ref-{word}"
        started = time.monotonic()
        result = flowc("compile", str(source), "-o", str(reference))
        assert result.returncode == 0, result.stderr
        versions[word] = (source, snapshot(reference), time.monotonic() - started)
    return versions


def staging_directory(parent: Path) -> Path | None:
    """The directory a compile is building beside OUT: it holds the staging mark until it is swapped in."""
    for name in leftovers(parent):
        if (parent / name / STAGING_MARK).exists():
            return parent / name
    return None


def entries(directory: Path) -> int:
    return sum(len(folders) + len(files) for _, folders, files in os.walk(directory))


def kill_while_staging(process: subprocess.Popen, parent: Path, wanted: int) -> bool:
    """SIGKILL the compile once the directory it stages beside OUT holds `wanted` entries (so the kill lands in
    the writing however slow the machine is); False if the compile got past the staging first."""
    while process.poll() is None:
        staging = staging_directory(parent)
        if staging is not None and entries(staging) >= wanted:
            process.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.002)
    return False


def test_a_killed_compile_leaves_one_whole_build_and_the_next_cleans_up(tmp_path, builds):
    """SIGKILL a many-flow compile again and again, at moments of two kinds, taking turns: at a delay that homes
    in on the swap (a kill before it moves the next kill later, one after it earlier, with jitter), and while
    the new OUT is being staged, once its directory holds a random share of the files (watched, not timed, so
    these kills land inside the writing whatever the machine's load). At least 10 kills, and more (up to 30)
    until there has been a kill on each side of the swap and one during the staging."""
    out = tmp_path / "out"
    assert flowc("compile", str(builds["old"][0]), "-o", str(out)).returncode == 0
    current = "old"
    delay = max(builds["old"][2], builds["new"][2])
    rng = random.Random(9)
    outcomes: set[tuple[bool, bool]] = set()

    def seen_enough() -> bool:
        return {swapped for swapped, _ in outcomes} == {False, True} and (False, True) in outcomes

    for attempt in range(30):
        if attempt >= 10 and seen_enough():
            break
        target = "new" if current == "old" else "old"
        process = subprocess.Popen([sys.executable, "-m", "flowc", "compile", str(builds[target][0]), "-o",
                                    str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timed = attempt % 2 == 0
        if timed:
            time.sleep(delay * rng.uniform(0.85, 1.15))
            process.send_signal(signal.SIGKILL)
            killed = True
        else:
            killed = kill_while_staging(process, tmp_path, int(len(builds[target][1]) * rng.uniform(0.05, 0.95)))
        process.wait()
        state = snapshot(out)
        matches = [word for word in ("old", "new") if state == builds[word][1]]
        assert matches, f"OUT is neither whole build after a kill (leftovers: {leftovers(tmp_path)})"
        swapped = matches[0] == target
        if killed:
            outcomes.add((swapped, bool(leftovers(tmp_path))))
        if timed:
            delay *= 0.8 if swapped else 1.25
        current = matches[0]
    result = flowc("compile", str(builds["new"][0]), "-o", str(out))
    assert result.returncode == 0 and "FC909" not in result.stderr, result.stderr
    assert snapshot(out) == builds["new"][1]
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [".out.flowc-lock", "out"]
    assert {swapped for swapped, _ in outcomes} == {False, True}, outcomes  # kills before and after the swap
    assert (False, True) in outcomes  # and at least one while the new OUT was being staged


def test_two_compiles_racing_into_one_out_end_with_one_whole_build(tmp_path, builds):
    out = tmp_path / "out"
    for _ in range(2):
        racers = [subprocess.Popen([sys.executable, "-m", "flowc", "compile", str(builds[word][0]), "-o", str(out)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for word in ("old", "new")]
        for racer in racers:
            assert racer.wait(timeout=120) == 0, racer.stderr.read()
            racer.stderr.close()
        assert snapshot(out) in (builds["old"][1], builds["new"][1])
        assert leftovers(tmp_path) == []


def test_a_killed_lock_holder_releases_the_lock(tmp_path):
    write(tmp_path / "ok.flow", OK)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from flowc.backend.outdir import out_lock\nwith out_lock(Path(sys.argv[1])):\n"
                               "    print('held', flush=True); time.sleep(60)", str(tmp_path / "out")],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    waiter = subprocess.Popen([sys.executable, "-m", "flowc", "compile", "ok.flow", "-o", "out"], cwd=tmp_path,
                              stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    assert waiter.poll() is None and not (tmp_path / "out").exists()  # waits for the holder
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert waiter.wait(timeout=60) == 0 and (tmp_path / "out" / "flows" / "main.xml").is_file()


def _unfinished_staging(parent: Path, planned: dict[str, bytes], written: dict[str, bytes]) -> Path:
    staging = parent / ".out.flowc-abc12345"
    write(staging / STAGING_MARK, STAGING_TEXT)
    files = {path: outdir.digest(data) for path, data in planned.items()}
    write(staging / RECORD, json.dumps({"format": 1, "files": files}))
    for path, data in written.items():
        write(staging / path, data)
    return staging


def test_leftovers_are_cleaned_but_unprovable_files_are_kept(tmp_path):
    out = tmp_path / "out"
    replace_out(out, {"a.xml": b"<Response/>"})
    # a compile killed while staging: a half-written planned file and a temporary file it planned
    _unfinished_staging(tmp_path, {"a.xml": b"<Response>new</Response>", "b/c.xml": b"x"},
                        {"a.xml": b"<Resp", "b/c.xml": b""})
    # a former OUT swapped out (it has a record, no mark) holding a file flowc cannot prove it wrote
    former = tmp_path / ".out.flowc-def45678"
    write(former / RECORD, json.dumps({"format": 1, "files": {"old.xml": outdir.digest(b"old")}}))
    write(former / "old.xml", b"old")
    write(former / "edited.xml", b"someone's")
    # a directory of the user's that merely looks like one of flowc's (no mark, no record)
    write(tmp_path / ".out.flowc-mine1234" / "keep.txt", "mine")
    swap = replace_out(out, {"a.xml": b"<Response/>"})
    assert not (tmp_path / ".out.flowc-abc12345").exists()
    assert (out / "edited.xml").read_bytes() == b"someone's"  # moved into OUT, where its path was free
    assert not former.exists() and (tmp_path / ".out.flowc-mine1234" / "keep.txt").read_text() == "mine"
    assert swap.warnings == []
    # when the path in OUT is taken, the unprovable file stays where it is, with a warning (FC909)
    write(former / RECORD, json.dumps({"format": 1, "files": {}}))
    write(former / "a.xml", b"not what OUT has")
    swap = replace_out(out, {"a.xml": b"<Response/>"})
    assert [w.code for w in swap.warnings] == ["FC909"] and (former / "a.xml").read_bytes() == b"not what OUT has"


def test_fallback_without_renameat2_and_recovery_after_a_kill_between_its_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(outdir, "_renameat2", lambda source, target, flags: False)
    out = tmp_path / "out"
    replace_out(out, {"a.xml": b"1"})
    write(out / "notes.txt", "mine")
    replace_out(out, {"a.xml": b"2"})
    assert snapshot(out) == {RECORD: (out / RECORD).read_bytes(), "a.xml": b"2", "notes.txt": b"mine"}
    assert leftovers(tmp_path) == []
    # killed between the two renames: no OUT, the old build aside, the new one still staged
    os.rename(out, tmp_path / ".out.flowc-aside123")
    _unfinished_staging(tmp_path, {"a.xml": b"3"}, {"a.xml": b"3"})
    replace_out(out, {"a.xml": b"4"})
    assert (out / "a.xml").read_bytes() == b"4" and (out / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_a_stale_staging_mark_in_out_is_removed_and_out_is_not_a_directory_is_refused(tmp_path):
    out = tmp_path / "out"
    replace_out(out, {"a.xml": b"1"})
    write(out / STAGING_MARK, STAGING_TEXT)  # killed right after the swap
    replace_out(out, {"a.xml": b"2"})
    assert not (out / STAGING_MARK).exists()
    write(tmp_path / "file", "x")
    with pytest.raises(FileProblem) as problem:
        replace_out(tmp_path / "file", {"a.xml": b"1"})
    assert problem.value.code == "FC902"


def test_a_mount_point_out_is_refused_with_a_clear_error(tmp_path):
    """A real mount point, in a private mount namespace (unshare), where the machine allows it."""
    import shutil

    write(tmp_path / "ok.flow", OK)
    (tmp_path / "out").mkdir()
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no unprivileged mount namespaces here")
    script = f"mount -t tmpfs none out && {sys.executable} -m flowc compile ok.flow -o out; echo status=$?; ls -A out"
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert "status=2" in result.stdout and "error[FC910]" in result.stderr, result.stderr
    assert result.stdout.strip().endswith("status=2")  # nothing was written into the mounted OUT
    assert leftovers(tmp_path) == []


def test_without_hard_links_the_users_files_are_carried_as_copies(tmp_path, monkeypatch):
    """A file system without hard links (or Windows): copies, and the old names are still provably spare."""
    import errno

    def no_links(source, target):
        raise OSError(errno.EPERM, "hard links not permitted", str(target))

    out = tmp_path / "out"
    replace_out(out, {"a.xml": b"1"})
    write(out / "notes.txt", "mine")
    (out / "link").symlink_to("notes.txt")
    monkeypatch.setattr(outdir, "_same_file", no_links)
    swap = replace_out(out, {"a.xml": b"2"})
    assert swap.warnings == [] and leftovers(tmp_path) == []
    assert (out / "notes.txt").read_text() == "mine" and os.readlink(out / "link") == "notes.txt"
