"""The `flowc` command line. Exit codes: 0 clean, 1 diagnostics at error level, 2 usage or I/O errors.

Each subcommand imports what it needs when it runs, so `flowc check` never loads lxml, jinja2 or pygls.
"""

from __future__ import annotations

import argparse
import gc
import sys

from flowc import __version__
from flowc.usage import EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE, UsageError

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
        return args.handler(args)
    except UsageError as error:
        print(f"flowc: error: {error}", file=sys.stderr)
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
    check.add_argument("--context", choices=["call", "conference", "transfer-answer"], default="call",
                       help="for .xml files: which webhook the document answers (default: call)")
    check.add_argument("--fix", action="store_true",
                       help="apply the safe fixes to the files, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix, also apply fixes that change behaviour (such as removing an unused flow)")
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
    sim.add_argument("--format", choices=["text", "json"], default="text", help="output format")
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
    from flowc.project import find_flow_files

    files = find_flow_files(paths)
    if not files:
        raise UsageError(f"no {suffix} files found in {' '.join(paths)}")
    return files


def flow_sources(paths: list[str], command: str) -> list[str]:
    """The .flow files for `compile` and `ir`, which do not read BXML: say what to use instead."""
    files = sources_of(paths)
    xml = [p for p in files if p.lower().endswith(".xml")]
    if xml:
        raise UsageError(f"`flowc {command}` reads .flow files, not BXML ({xml[0]}): lint a BXML document with "
                         "`flowc check`, or convert it with `flowc import`")
    return files


def report(compilation, fmt: str) -> int:
    from flowc.render import render_json, render_text, summary, use_color

    diagnostics = compilation.sorted_diagnostics()
    if fmt == "json":
        print(render_json(diagnostics, compilation.sources))
    elif diagnostics:
        print(render_text(diagnostics, compilation.sources, color=use_color(sys.stdout)))
    if fmt == "text" and diagnostics:
        print(summary(diagnostics), file=sys.stderr)
    return EXIT_DIAGNOSTICS if any(d.is_error for d in diagnostics) else EXIT_OK


def run_check(args) -> int:
    paths = sources_of(args.sources)
    compilation = check_paths(paths, args.context)
    if args.fix:
        compilation = fix_files(paths, compilation, args)
    return report(compilation, args.format)


def check_paths(paths: list[str], context: str):
    from flowc.project import compile_sources, read_files

    xml_paths = [p for p in paths if p.lower().endswith(".xml")]
    flow_paths = [p for p in paths if not p.lower().endswith(".xml")]
    compilation = compile_sources(read_files(flow_paths))
    if xml_paths:
        from flowc.lint_xml import lint_files

        lint_files(compilation, xml_paths, context)
    return compilation


def fix_files(paths: list[str], compilation, args):
    """Apply fixes and re-check until nothing applicable is left; each file is rewritten atomically."""
    from pathlib import Path

    from flowc.files import write_atomic
    from flowc.fixes import MAX_PASSES, apply_edits, choose_edits

    fixed: dict[str, int] = {}
    for _ in range(MAX_PASSES):
        edits = choose_edits(compilation.diagnostics, unsafe=args.unsafe_fixes)
        if not edits:
            break
        for path, file_edits in edits.items():
            source = compilation.sources[path]
            target = Path(path).resolve()  # through a symlink: fix the file, keep the link
            with open(target, "rb") as handle:  # keep a byte-order mark the editor wrote (the text has none)
                bom = "\ufeff" if handle.read(3) == b"\xef\xbb\xbf" else ""
            write_atomic(target, bom + apply_edits(source.text, file_edits), mode=target.stat().st_mode & 0o777)
            fixed[path] = fixed.get(path, 0) + len(file_edits)
        compilation = check_paths(paths, args.context)
    if args.format == "text":
        for path, count in sorted(fixed.items()):
            print(f"fixed {count} problem{'s' if count != 1 else ''} in {path}", file=sys.stderr)
    return compilation


def run_compile(args) -> int:
    from pathlib import Path

    from flowc.build import build
    from flowc.project import compile_sources, read_files

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a directory")
    compilation = compile_sources(read_files(flow_sources(args.sources, "compile")))
    result = build(compilation, out, extra_outputs=_extra_outputs())
    _check_user_module(result, out)
    status = report(compilation, args.format)
    if status == EXIT_OK and args.format == "text":
        print(f"compiled {len(result.written)} files into {out}", file=sys.stderr)
    return status


def _extra_outputs():
    """Generated web-app files, when the web backend is available (see flowc.emit_app)."""
    try:
        from flowc.emit_app import app_outputs
    except ImportError:
        return None
    return app_outputs


def _check_user_module(result, out) -> None:
    """Create the hooks module the web app imports, or report its missing and unused hooks (flowc.emit_app)."""
    if result.plan is None or _extra_outputs() is None:  # nothing was built (errors)
        return
    from flowc.emit_app import sync_user_module

    result.compilation.diagnostics.extend(sync_user_module(result.compilation, out, result.plan, result.rendered))


def run_ir(args) -> int:
    from flowc.ir import ir_adapter
    from flowc.project import compile_sources, read_files

    compilation = compile_sources(read_files(flow_sources(args.sources, "ir")), check=False)
    sys.stdout.write(ir_adapter().dump_json(compilation.project, indent=2).decode() + "\n")
    if not compilation.diagnostics:
        return EXIT_OK
    from flowc.render import render_text, use_color

    # stdout is the JSON (`flowc ir f.flow | jq ...`); what went wrong goes to stderr
    print(render_text(compilation.sorted_diagnostics(), compilation.sources, color=use_color(sys.stderr)),
          file=sys.stderr)
    return EXIT_DIAGNOSTICS if compilation.has_errors else EXIT_OK


def run_import(args) -> int:
    from flowc.import_xml import import_file

    return import_file(args.source, args.name)


def run_explain(args) -> int:
    from flowc.codes import CODES
    from flowc.explain import explain_page

    if args.code is None:
        for code in CODES.values():
            print(f"{code.code}  {code.severity.label:<7}  {code.title}")
        return EXIT_OK
    code = args.code.upper()
    if code not in CODES:
        raise UsageError(f"unknown code {args.code}; run `flowc explain` for the list")
    print(explain_page(CODES[code]))
    return EXIT_OK


def run_fmt(args) -> int:
    from flowc.formatter import format_command

    return format_command(sources_of(args.sources), check=args.check, diff=args.diff)


def run_lsp(args) -> int:
    try:
        from flowc.lsp.server import main as lsp_main
    except ImportError as error:
        raise UsageError(f"the language server needs pygls: pip install 'flowc[lsp]' ({error})") from None
    return lsp_main()


def run_serve(args) -> int:
    try:
        from flowc.serve import serve
    except ImportError as error:
        raise UsageError(f"`flowc serve` needs uvicorn: pip install 'flowc[serve]' ({error})") from None
    return serve(args.out, host=args.host, port=args.port, workers=args.workers)


def run_sim(args) -> int:
    try:
        from flowc.sim.command import main as sim_main
    except ImportError as error:
        raise UsageError(f"`flowc sim` needs the emulator: pip install 'flowc[sim]' ({error})") from None
    return sim_main(args)


def run_graph(args) -> int:
    from flowc.graph import graph_command

    return graph_command(flow_sources(args.sources, "graph"), args.out, args.format, args.flow)


if __name__ == "__main__":
    raise SystemExit(main())
