"""The page `flowc explain CODE` prints; docs/diagnostics.md is made of the same pages."""

from __future__ import annotations

from flowc.codes import CODES, Code


def explain_page(code: Code) -> str:
    lines = [f"# {code.code}: {code.title}", "", f"Default severity: {code.severity.label}", "", code.explanation]
    if code.bad:
        lines += ["", "Example that triggers it:", "", "```flow", code.bad.rstrip("\n"), "```"]
    if code.good:
        lines += ["", "Fixed:", "", "```flow", code.good.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def diagnostics_markdown() -> str:
    header = [
        "# Diagnostics",
        "",
        "Every problem flowc reports has a stable code. This page is generated from the same table as",
        "`flowc explain CODE` (compiler/codes.py); regenerate it with `python -m flowc.explain > docs/diagnostics.md`.",
        "",
        "| code | severity | title |",
        "|---|---|---|",
    ]
    header += [f"| [{c.code}](#{c.code.lower()}) | {c.severity.label} | {c.title} |" for c in CODES.values()]
    pages = [explain_page(c).replace(f"# {c.code}:", f"## {c.code}:", 1) for c in CODES.values()]
    return "\n".join(header) + "\n\n" + "\n".join(pages)


if __name__ == "__main__":
    print(diagnostics_markdown(), end="")
