"""What writing OUT costs: the staged build, the ownership check and the swap of `flowc compile` (backend.outdir).

    python benchmarks/bench_out.py                # prints a Markdown table (see docs/performance.md)

The outputs of the generated 10,000-line project of bench_compile.py (its documents, manifest and web app) are
rendered once in memory; then OUT is written into a new directory, and rebuilt over the previous build (the
usual case: every recorded file is hashed and checked, the new OUT staged beside it, swapped in and the old
one taken apart). Best of 5 each, in process, on the file system of the temporary directory.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compile import generated_project  # noqa: E402


def outputs() -> dict[str, bytes]:
    import json

    from flowc.backend.build import MANIFEST, manifest_data, render
    from flowc.backend.emit_app import app_outputs
    from flowc.semantics.project import compile_sources

    compilation = compile_sources(generated_project())
    plan, rendered, _ = render(compilation)
    files = {item.document.file: item.xml for item in rendered} | app_outputs(plan, rendered)
    files[MANIFEST] = json.dumps(manifest_data(plan, rendered, compilation.sources)).encode()
    return files


def best(action, setup=lambda: None, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from flowc.backend.outdir import replace_out

    files = outputs()
    size = sum(map(len, files.values()))
    with tempfile.TemporaryDirectory() as parent:
        out = Path(parent) / "out"

        first = best(lambda: replace_out(out, files), setup=lambda: shutil.rmtree(out, ignore_errors=True))
        again = best(lambda: replace_out(out, files))
    print("| measurement | result |\n|---|---|")
    print(f"| write a new OUT: {len(files)} files, {size / 1e6:.1f} MB (best of 5) | {first * 1000:.0f} ms |")
    print(f"| rebuild over the previous build (check, stage, swap, take apart; best of 5) | {again * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
