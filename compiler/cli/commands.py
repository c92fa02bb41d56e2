"""The `flowc` command line. Exit codes: 0 clean, 1 diagnostics at error level, 2 usage or I/O errors.

Each subcommand imports what it needs when it runs, so `flowc check` never loads lxml, jinja2 or pygls.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

from flowc import __version__
from flowc.cli.usage import EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE, UsageError
from flowc.core.files import FileProblem

if TYPE_CHECKING:  # (types only: each command imports what it runs)
    from pathlib import Path

    from flowc.backend.build import BuildResult, ExtraOutputs
    from flowc.check import Selection
    from flowc.semantics.project import Compilation

EXIT_BROKEN_PIPE = 128 + 13  # the shell's status for a process ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    # A compile allocates many small, long-lived objects (tokens, IR nodes) and the process is short-lived:
    # collecting young objects every 700 allocations costs ~20% of a compile for nothing.
    gc.set_threshold(100_000, 50, 100)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = args.handler(args)
        return status
    except UsageError as error:
        print(f"flowc: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except FileProblem as problem:  # a file flowc will not read or an OUT it will not touch: a coded error
        print(f"flowc: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `flowc check ... | head`: the reader has gone; say nothing, exit as SIGPIPE would
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        target = f": {error.filename}" if error.filename else ""
        print(f"flowc: error: {error.strerror or error}{target}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowc",
                                     description="Compile and check .flow call flows for Bandwidth BXML.")
    parser.add_argument("--version", action="version", version=f"flowc {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    compile_ = commands.add_parser("compile", help="compile .flow files to BXML documents and a manifest")
    compile_.add_argument("sources", nargs="+", metavar="SRC", help=".flow files or directories")
    compile_.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    add_format(compile_)
    compile_.set_defaults(handler=run_compile)

    check = commands.add_parser("check", help="check .flow files (or BXML .xml files) and report problems")
    check.add_argument("sources", nargs="+", metavar="FILE", help=".flow or .xml files, or directories")
    check.add_argument("--context", choices=["call", "conference", "transfer-answer", "update-call",
                                             "update-conference"], default="call",
                       help="for .xml files: which webhook the document answers, or which update endpoint it is "
                       "sent to (default: call)")
    check.add_argument("--fix", action="store_true",
                       help="apply the safe fixes to the files, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix, also apply fixes that change behaviour (such as removing an unused flow)")
    check.add_argument("--select", action="append", default=[], metavar="CODES",
                       help="report only these codes or code prefixes, comma-separated (e.g. FC3,FC403)")
    check.add_argument("--ignore", action="append", default=[], metavar="CODES",
                       help="do not report these codes or code prefixes (the longest matching prefix decides)")
    add_format(check)
    check.set_defaults(handler=run_check)

    ir = commands.add_parser("ir", help="print the typed IR of .flow files as JSON")
    ir.add_argument("sources", nargs="+", metavar="FILE")
    ir.set_defaults(handler=run_ir)

    import_ = commands.add_parser("import", help="print an equivalent .flow for an existing BXML document")
    import_.add_argument("source", metavar="FILE.xml")
    import_.add_argument("--name", default=None, help="name of the flow (default: the file name)")
    import_.set_defaults(handler=run_import)

    explain = commands.add_parser("explain", help="explain a diagnostic code, e.g. flowc explain FC301")
    explain.add_argument("code", nargs="?", help="the code; omit to list every code")
    explain.set_defaults(handler=run_explain)

    fmt = commands.add_parser("fmt", help="format .flow files in the one canonical layout")
    fmt.add_argument("sources", nargs="+", metavar="FILE", help=".flow files or directories")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would be reformatted")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change as a diff")
    fmt.set_defaults(handler=run_fmt)

    lsp = commands.add_parser("lsp", help="run the language server over stdio (needs flowc[lsp])")
    lsp.set_defaults(handler=run_lsp)

    serve = commands.add_parser("serve", help="serve a compiled OUT directory for local development "
                                          "(needs flowc[serve])")
    serve.add_argument("out", metavar="OUT", help="the directory `flowc compile -o` wrote")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default 1; a stateful app needs FLOWC_STORE=redis://... for more)")
    serve.set_defaults(handler=run_serve)

    sim = commands.add_parser("sim", help="run a simulated call against OUT's app and print its timeline, or "
                                      "load-test a running app (needs flowc[sim])")
    sim.add_argument("target", metavar="OUT", help="the OUT directory (or the URL of a running app)")
    sim.add_argument("--call", metavar="FLOW", help="the flow (or path) the inbound call's initiate goes to")
    sim.add_argument("--from", dest="from_", default="+15559998765", metavar="N", help="the caller's number")
    sim.add_argument("--to", default="+15551112345", metavar="N", help="the number called")
    sim.add_argument("--press", action="append", default=[], metavar="DIGITS",
                     help="keys to press once the call waits (repeatable: one group per wait)")
    sim.add_argument("--format", choices=["text", "json", "mermaid"], default="text",
                     help="output format (mermaid: the call's sequence diagram)")
    sim.add_argument("--ui", action="store_true", help="serve the console: place, hear and steer calls in a browser")
    sim.add_argument("--host", default="127.0.0.1",
                     help="with --ui: the loopback address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=0, help="with --ui: port to listen on (default: any free port)")
    sim.add_argument("--load", type=int, metavar="N", help="make N calls over real HTTP and report throughput")
    sim.add_argument("--concurrency", type=int, default=10, metavar="C", help="with --load: calls at a time")
    sim.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                     help="with --load: stop starting calls after S seconds (default 60)")
    sim.set_defaults(handler=run_sim)

    graph = commands.add_parser("graph", help="draw the project's flows as a Mermaid, Graphviz DOT or SVG diagram")
    graph.add_argument("sources", nargs="+", metavar="SRC", help=".flow files or directories")
    graph.add_argument("-o", "--out", metavar="FILE", help="write the diagram to FILE (default: standard output)")
    graph.add_argument("--format", choices=["mermaid", "dot", "svg"], default=None,
                       help="diagram format (default: from FILE's suffix .mmd/.dot/.gv/.svg, else mermaid)")
    graph.add_argument("--flow", metavar="NAME", help="only what the flow NAME reaches")
    graph.set_defaults(handler=run_graph)
    return parser


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["text", "json"], default="text", help="diagnostic output format")


def sources_of(paths: list[str], suffix: str = ".flow") -> list[str]:
    from flowc.core.files import require_utf8_name, shown_name
    from flowc.semantics.project import find_flow_files

    if "" in paths:
        raise UsageError("an empty path names no file")
    files = find_flow_files(paths)
    if not files:
        raise UsageError(f"no {suffix} files found in {shown_name(' '.join(paths))}")
    for file in files:
        require_utf8_name(file)
    return files


def flow_sources(paths: list[str], command: str) -> list[str]:
    """The .flow files for `compile` and `ir`, which do not read BXML: say what to use instead."""
    files = sources_of(paths)
    xml = [p for p in files if p.lower().endswith(".xml")]
    if xml:
        raise UsageError(f"`flowc {command}` reads .flow files, not BXML ({xml[0]}): lint a BXML document with "
                         "`flowc check`, or convert it with `flowc import`")
    return files


def report(compilation: Compilation, fmt: str) -> int:
    from flowc.cli.render import render_json, render_text, summary, use_color

    diagnostics = compilation.sorted_diagnostics()
    if fmt == "json":
        print(render_json(diagnostics, compilation.sources))
    elif diagnostics:
        print(render_text(diagnostics, compilation.sources, color=use_color(sys.stdout)))
    if fmt == "text":  # one line on standard error even when clean, as compile's "compiled N files"
        print(summary(diagnostics), file=sys.stderr)
    return EXIT_DIAGNOSTICS if any(d.is_error for d in diagnostics) else EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    paths = sources_of(args.sources)
    args.selection = selection_of(args)
    compilation = fix_files(paths, args) if args.fix else check_paths(paths, args.context, args.selection)
    return report(compilation, args.format)


def selection_of(args: argparse.Namespace) -> Selection:
    """`--select`/`--ignore` as the checker reads them; an unknown code prefix is a usage error."""
    from flowc.check import Selection, UnknownCode

    try:
        return Selection.parse(args.select, args.ignore)
    except UnknownCode as error:
        raise UsageError(str(error)) from None


def check_paths(paths: list[str], context: str, selection: Selection | None = None) -> Compilation:
    from flowc.semantics.project import read_files

    return check_contents(read_files(paths), context, selection)


def check_contents(contents: dict[str, bytes], context: str, selection: Selection | None = None
                   ) -> Compilation:
    """Check files already read ({path: bytes}): .flow files compiled together, .xml files linted as BXML."""
    from flowc.semantics.project import compile_sources

    xml = {path: data for path, data in contents.items() if path.lower().endswith(".xml")}
    compilation = compile_sources({path: data for path, data in contents.items() if path not in xml},
                                  selection=selection)
    if xml:
        from flowc.bxml.lint_xml import lint_sources

        sources, diagnostics = lint_sources(xml, context)
        compilation.sources.update(sources)
        compilation.diagnostics.extend(diagnostics)
    if selection is not None:
        compilation.diagnostics = selection.filter(compilation.diagnostics)
    return compilation


def fix_files(paths: list[str], args: argparse.Namespace) -> Compilation:
    """Apply fixes and re-check until nothing applicable is left. Each file is rewritten atomically, and only
    if it still holds exactly the bytes the fixes were computed from: a file edited meanwhile is left as it
    is, with a warning (FC907), and not fixed again in this run."""
    from pathlib import Path

    from flowc.core.files import ChangedMeanwhile, replace_if_unchanged
    from flowc.core.fixes import MAX_PASSES, apply_edits, choose_edits
    from flowc.semantics.project import read_files

    contents = read_files(paths)
    compilation = check_contents(contents, args.context, args.selection)  # the bytes each fix is computed from
    fixed: dict[str, int] = {}
    changed: set[str] = set()
    for _ in range(MAX_PASSES):
        edits = {path: edits for path, edits in choose_edits(compilation.diagnostics, args.unsafe_fixes).items()
                 if path not in changed}
        if not edits:
            break
        for path, file_edits in edits.items():
            target = Path(path).resolve()  # through a symlink: fix the file, keep the link
            bom = "\ufeff" if contents[path].startswith(b"\xef\xbb\xbf") else ""  # keep the editor's mark
            try:
                replace_if_unchanged(target, contents[path], bom + apply_edits(compilation.sources[path].text,
                                     file_edits), mode=target.stat().st_mode & 0o777)
            except ChangedMeanwhile as warning:
                changed.add(path)
                print(f"flowc: {warning}", file=sys.stderr)
                continue
            fixed[path] = fixed.get(path, 0) + len(file_edits)
        contents = read_files(paths)
        compilation = check_contents(contents, args.context, args.selection)
    if args.format == "text":
        for path, count in sorted(fixed.items()):
            print(f"fixed {count} problem{'s' if count != 1 else ''} in {path}", file=sys.stderr)
    return compilation


def run_compile(args: argparse.Namespace) -> int:
    from flowc.backend.build import build
    from flowc.semantics.project import compile_sources, read_files

    out = output_directory(args.out)
    compilation = compile_sources(read_files(flow_sources(args.sources, "compile")))
    if _extra_outputs() is not None:  # a hooks module that cannot be read stops the build before OUT is touched
        from flowc.backend.emit_app import hooks_file_problems, hooks_path
        from flowc.core.files import require_utf8_name

        require_utf8_name(hooks_path(out))
        compilation.diagnostics.extend(hooks_file_problems(compilation, out))
    result = build(compilation, out, extra_outputs=_extra_outputs())
    _check_user_module(result, out)
    for warning in result.warnings:
        print(f"flowc: {warning}", file=sys.stderr)
    status = report(compilation, args.format)
    if status == EXIT_OK and args.format == "text":
        print(f"compiled {len(result.written)} files into {out}", file=sys.stderr)
    return status


def output_directory(name: str) -> Path:
    """OUT as given to `compile -o`, refused before anything is read when it cannot be one."""
    import os
    from pathlib import Path

    from flowc.core.files import require_utf8_name

    if not name:
        raise UsageError("-o/--out needs a directory name (an empty one would mean the current directory)")
    require_utf8_name(name)
    out = Path(name)
    if os.path.islink(out) and not out.exists():
        raise UsageError(f"{name} is a symbolic link to {os.readlink(out)}, which does not exist")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{name} exists and is not a directory")
    return out


def _extra_outputs() -> ExtraOutputs | None:
    """Generated web-app files, when the web backend is available (see flowc.backend.emit_app)."""
    try:
        from flowc.backend.emit_app import app_outputs
    except ImportError:
        return None
    return app_outputs


def _check_user_module(result: BuildResult, out: Path) -> None:
    """Create the hooks module the web app imports, or report its missing and unused hooks (backend.emit_app)."""
    if result.plan is None or _extra_outputs() is None:  # nothing was built (errors)
        return
    from flowc.backend.emit_app import sync_user_module
    from flowc.backend.outdir import out_lock

    with out_lock(out.resolve()):  # the stub is created beside OUT: one compile at a time there too
        result.compilation.diagnostics.extend(sync_user_module(result.compilation, out, result.plan,
                                                               result.rendered))


def run_ir(args: argparse.Namespace) -> int:
    from flowc.semantics.ir import ir_adapter
    from flowc.semantics.project import compile_sources, read_files

    compilation = compile_sources(read_files(flow_sources(args.sources, "ir")), check=False)
    sys.stdout.write(ir_adapter().dump_json(compilation.project, indent=2).decode() + "\n")
    if not compilation.diagnostics:
        return EXIT_OK
    from flowc.cli.render import render_text, use_color

    # stdout is the JSON (`flowc ir f.flow | jq ...`); what went wrong goes to stderr
    print(render_text(compilation.sorted_diagnostics(), compilation.sources, color=use_color(sys.stderr)),
          file=sys.stderr)
    return EXIT_DIAGNOSTICS if compilation.has_errors else EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    from flowc.bxml.import_xml import import_file

    if not args.source:
        raise UsageError("an empty path names no file")
    return import_file(args.source, args.name)


def run_explain(args: argparse.Namespace) -> int:
    from flowc.cli.explain import explain_page
    from flowc.core.codes import CODES

    if args.code is None:
        for code in CODES.values():
            print(f"{code.code}  {code.severity.label:<7}  {code.title}")
        return EXIT_OK
    code = args.code.upper()
    if code not in CODES:
        raise UsageError(f"unknown code {args.code}; run `flowc explain` for the list")
    print(explain_page(CODES[code]))
    return EXIT_OK


def run_fmt(args: argparse.Namespace) -> int:
    from flowc.syntax.formatter import format_command

    return format_command(sources_of(args.sources), check=args.check, diff=args.diff)


def run_lsp(args: argparse.Namespace) -> int:
    try:
        from flowc.lsp.server import main as lsp_main
    except ImportError as error:
        raise UsageError(f"the language server needs pygls: pip install 'flowc[lsp]' ({error})") from None
    return lsp_main()


def run_serve(args: argparse.Namespace) -> int:
    if not args.out:
        raise UsageError("an empty path names no directory")
    from flowc.core.files import require_utf8_name

    require_utf8_name(args.out)
    try:
        from flowc.cli.serve import serve
    except ImportError as error:
        raise UsageError(f"`flowc serve` needs uvicorn: pip install 'flowc[serve]' ({error})") from None
    return serve(args.out, host=args.host, port=args.port, workers=args.workers)


def run_sim(args: argparse.Namespace) -> int:
    try:
        from flowc.sim.command import main as sim_main
    except ImportError as error:
        raise UsageError(f"`flowc sim` needs the emulator: pip install 'flowc[sim]' ({error})") from None
    return sim_main(args)


def run_graph(args: argparse.Namespace) -> int:
    from flowc.backend.graph import graph_command

    return graph_command(flow_sources(args.sources, "graph"), args.out, args.format, args.flow)


if __name__ == "__main__":
    raise SystemExit(main())
