"""Language-server latency, measured the way an editor sees it: a real `python -m flowc lsp` over stdio.

    .venv/bin/python benchmarks/bench_lsp.py [--sizes 500 5000] [--edits 30] [--requests 300] [--debounce 150]
        [--workspace-files 1640] [--big-file 24000]
    .venv/bin/python benchmarks/bench_lsp.py --hover-under-check [--edits 40] [--big-file 24000]

For each file size the script writes a one-file workspace (the realistic flows of bench_check.py, repeated
with fresh names until the file has that many lines), starts the server, opens the file and then:

- edit -> diagnostics: sends a one-line incremental change (alternately introducing and removing an error, so
  the diagnostics really change) and times until the server publishes diagnostics for that document version.
  The figure that matters is that time minus the debounce (the server waits for typing to pause first). The
  error is a misspelt statement, then (second series) an unterminated string, a syntax error that makes the
  server parse the whole file rather than only the declaration that changed;
- hover and completion: times request -> response at many positions (statement keywords, attribute names,
  enum values, flow names; line starts, after attributes and after `then`), with the file analysed; then
  hover sent right after an edit (before the debounced check), so the server first analyses the new text.

Then, unless given 0:

- a generated workspace of `--workspace-files` files (the checker benchmark's files, ~61 lines each: 1,640 files
  are 100,000 lines) in one workspace folder: the time from `initialized` to the first diagnostics, then edits
  of one file in the middle of the project as above (edit -> its diagnostics);
- hover while a big check runs: a one-file workspace of `--big-file` lines; after each edit, once the debounce
  has passed (the server is checking), hovers are sent one after another until that version's diagnostics
  arrive; each hover is timed. `--hover-under-check` runs only this part and prints p50/p95/max.

Times are wall-clock on the client side, so they include JSON-RPC encoding and the pipe.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import FILE_TEMPLATE  # noqa: E402  (the same realistic flows as the checker benchmark)


def generate(lines: int) -> str:
    parts: list[str] = []
    total = n = 0
    while total < lines:
        part = FILE_TEMPLATE.format(n=n, prev=max(n - 1, 0))
        parts.append(part)
        total += part.count("\n")
        n += 1
    return "".join(parts)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"median {statistics.median(ms):6.1f} ms   p95 {percentile(ms, 0.95):6.1f} ms   "
            f"max {max(ms):6.1f} ms   (n={len(ms)})")


class Bench:
    def __init__(self, debounce_ms: int) -> None:
        self.client = LanguageClient("flowc-bench", "1")
        self.debounce_ms = debounce_ms
        self.published: dict[tuple[str, int | None], float] = {}
        self.waiters: dict[tuple[str, int | None], asyncio.Future] = {}

        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: self.on_diagnostics(params))

    def on_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        key = (params.uri, params.version)
        self.published[key] = time.perf_counter()
        waiter = self.waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(len(params.diagnostics))

    async def start(self, folder: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "flowc", "lsp")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="bench")],
            initialization_options={"debounceMs": self.debounce_ms}))
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def expect(self, uri: str, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters[(uri, version)] = future
        return future

    async def open(self, uri: str, text: str) -> None:
        done = self.expect(uri, 1)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="flow", version=1, text=text)))
        await asyncio.wait_for(done, 120)

    def replace_line(self, uri: str, version: int, line: int, old: str, new: str) -> None:
        """Send one edit: line `line`, currently `old`, becomes `new`."""
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=0),
                                  end=types.Position(line=line, character=len(old))),
                text=new)]))

    async def edits(self, uri: str, text: str, count: int, first_version: int, syntax_error: bool) -> list[float]:
        """Replace one `say` line in the middle of the file, alternately with an error and back. The error is a
        misspelt statement, or with `syntax_error` an unterminated string (the server then parses the whole
        file instead of the declaration that changed)."""
        line, original = middle_say_line(text)
        broken = original + ' "' if syntax_error else original.replace("say", "sya", 1)
        latencies = []
        for version in range(first_version, first_version + count):
            new = broken if version % 2 == 0 else original
            old = broken if version % 2 == 1 else original
            done = self.expect(uri, version)
            sent = time.perf_counter()
            self.replace_line(uri, version, line, old, new)
            await asyncio.wait_for(done, 30)
            latencies.append(self.published[(uri, version)] - sent)
            await asyncio.sleep(0.05)
        return latencies

    async def hovers_after_edits(self, uri: str, text: str, count: int, first_version: int,
                                 at: types.Position) -> list[float]:
        """Edit a line in the middle (its length changes, so the declarations after it move), then hover at
        once, before the debounced check: the server analyses the new text for the hover."""
        line, original = middle_say_line(text)
        current = original
        latencies = []
        for version in range(first_version, first_version + count):
            new = (original.replace("say", "sya", 1) if version % 2 else original) + " " * (version % 3)
            done = self.expect(uri, version)
            self.replace_line(uri, version, line, current, new)
            current = new
            sent = time.perf_counter()
            await self.client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri=uri), at))
            latencies.append(time.perf_counter() - sent)
            await asyncio.wait_for(done, 30)
            await asyncio.sleep(0.05)
        return latencies

    async def requests(self, uri: str, positions: list[types.Position], kind: str) -> list[float]:
        identifier = types.TextDocumentIdentifier(uri=uri)
        latencies = []
        for position in positions:
            sent = time.perf_counter()
            if kind == "hover":
                await self.client.text_document_hover_async(types.HoverParams(identifier, position))
            else:
                await self.client.text_document_completion_async(types.CompletionParams(identifier, position))
            latencies.append(time.perf_counter() - sent)
        return latencies


def middle_say_line(text: str) -> tuple[int, str]:
    """The first `say "..."` line in the second half of the file: its number and text."""
    lines = text.splitlines()
    line = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip().startswith("say \""))
    return line, lines[line]


def hover_positions(text: str, count: int) -> list[types.Position]:
    words = ("say ", "gender ", "male", "gather ", "then ", "join ", "voice", "timeout ", "redirect to ")
    found = []
    for number, line in enumerate(text.splitlines()):
        for word in words:
            column = line.find(word)
            if column != -1:
                shift = len(word) if word.endswith("then ") or word == "redirect to " else 1
                found.append(types.Position(line=number, character=column + shift))
    step = max(1, len(found) // count)
    return found[::step][:count]


def completion_positions(text: str, count: int) -> list[types.Position]:
    found = []
    for number, line in enumerate(text.splitlines()):
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        found.append(types.Position(line=number, character=indent))  # statement start
        for marker in ("then ", "gender ", "say "):
            column = line.find(marker)
            if column != -1:
                found.append(types.Position(line=number, character=column + len(marker)))
    step = max(1, len(found) // count)
    return found[::step][:count]


async def run_size(lines: int, options) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        text = generate(lines)
        path = folder / "big.flow"
        path.write_text(text)
        bench = Bench(options.debounce)
        await bench.start(folder)
        try:
            uri = path.as_uri()
            await bench.open(uri, text)
            edit = await bench.edits(uri, text, options.edits, 2, syntax_error=False)
            beyond = [latency - options.debounce / 1000 for latency in edit]
            syntax = await bench.edits(uri, text, options.edits // 2 * 2, 2 + options.edits, syntax_error=True)
            syntax_beyond = [latency - options.debounce / 1000 for latency in syntax]
            version = 2 + options.edits + options.edits // 2 * 2
            hover_at = hover_positions(text, options.requests)
            typing = await bench.hovers_after_edits(uri, text, options.edits, version, hover_at[len(hover_at) // 4])
            hovers = await bench.requests(uri, hover_at, "hover")
            completions = await bench.requests(uri, completion_positions(text, options.requests), "completion")
        finally:
            await bench.stop()
    print(f"{text.count(chr(10))}-line file, debounce {options.debounce} ms:")
    print(f"  edit -> diagnostics:            {summary(edit)}")
    print(f"  ... beyond the debounce:        {summary(beyond)}")
    print(f"  ... with a syntax error:        {summary(syntax_beyond)}")
    print(f"  hover:                          {summary(hovers)}")
    print(f"  completion:                     {summary(completions)}")
    print(f"  hover right after an edit:      {summary(typing)}")


def write_workspace(folder: Path, files: int) -> int:
    lines = 0
    for n in range(files):
        text = FILE_TEMPLATE.format(n=n, prev=max(n - 1, 0))
        (folder / f"f{n:04d}.flow").write_text(text)
        lines += text.count("\n")
    return lines


async def run_workspace(options) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        lines = write_workspace(folder, options.workspace_files)
        bench = Bench(options.debounce)
        await bench.client.start_io(sys.executable, "-m", "flowc", "lsp")
        await bench.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="bench")],
            initialization_options={"debounceMs": options.debounce}))
        started = time.perf_counter()
        bench.client.initialized(types.InitializedParams())
        try:
            path = folder / f"f{options.workspace_files // 2:04d}.flow"
            text = path.read_text()
            uri = path.as_uri()
            await bench.open(uri, text)  # at once, as an editor restoring its open files does
            to_first = bench.published[(uri, 1)] - started
            edit = await bench.edits(uri, text, options.edits, 2, syntax_error=False)
        finally:
            await bench.stop()
    print(f"workspace of {options.workspace_files} files, {lines} lines, debounce {options.debounce} ms:")
    print(f"  initialized -> the open file's first diagnostics: {to_first * 1000:6.0f} ms")
    print(f"  edit -> diagnostics:            {summary(edit)}")
    print(f"  ... beyond the debounce:        {summary([e - options.debounce / 1000 for e in edit])}")


async def run_hover_during_check(options) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        text = generate(options.big_file)
        path = folder / "big.flow"
        path.write_text(text)
        bench = Bench(options.debounce)
        await bench.start(folder)
        hovers: list[float] = []
        checks: list[float] = []
        try:
            uri = path.as_uri()
            await bench.open(uri, text)
            line, original = middle_say_line(text)
            current = original
            at = hover_positions(text, 50)[5]
            identifier = types.TextDocumentIdentifier(uri=uri)
            for version in range(2, 2 + options.edits // 2):
                new = original.replace("say", "sya", 1) if version % 2 == 0 else original
                done = bench.expect(uri, version)
                sent = time.perf_counter()
                bench.replace_line(uri, version, line, current, new)
                current = new
                await asyncio.sleep(options.debounce / 1000 + 0.02)  # the check has started
                while not done.done():
                    asked = time.perf_counter()
                    await bench.client.text_document_hover_async(types.HoverParams(identifier, at))
                    if not done.done():
                        hovers.append(time.perf_counter() - asked)
                await done
                checks.append(bench.published[(uri, version)] - sent - options.debounce / 1000)
                if options.verbose:
                    print(f"  version {version}: check {checks[-1] * 1000:.0f} ms, {len(hovers)} hovers so far, "
                          f"slowest {max(hovers, default=0) * 1000:.0f} ms")
                await asyncio.sleep(0.05)
        finally:
            await bench.stop()
    print(f"{text.count(chr(10))}-line file, hover while its check runs:")
    print(f"  the check (edit -> diagnostics beyond the debounce): {summary(checks)}")
    print(f"  hover meanwhile:                {summary(hovers)}")
    ms = [h * 1000 for h in hovers]
    print(f"  hover meanwhile: p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
          f"max {max(ms):.1f} ms over {len(ms)} hovers during {len(checks)} checks")


async def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--sizes", type=int, nargs="*", default=[500, 5000])
    arguments.add_argument("--edits", type=int, default=30)
    arguments.add_argument("--requests", type=int, default=300)
    arguments.add_argument("--debounce", type=int, default=150, help="the server's debounce, in ms")
    arguments.add_argument("--verbose", action="store_true", help="print each edit of the hover-during-check run")
    arguments.add_argument("--workspace-files", type=int, default=1640, help="0 skips the workspace benchmark")
    arguments.add_argument("--big-file", type=int, default=24000, help="lines; 0 skips hover during a check")
    arguments.add_argument("--hover-under-check", action="store_true",
                           help="only hover while the check of the --big-file file runs")
    options = arguments.parse_args()
    if options.hover_under_check:
        await run_hover_during_check(options)
        return
    for lines in options.sizes:
        await run_size(lines, options)
    if options.workspace_files:
        await run_workspace(options)
    if options.big_file:
        await run_hover_during_check(options)


if __name__ == "__main__":
    asyncio.run(main())
