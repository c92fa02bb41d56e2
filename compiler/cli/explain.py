"""The page `flowc explain CODE` prints; docs/diagnostics.md is made of the same pages.

Regenerate the docs with `python -m flowc.cli.explain > docs/diagnostics.md` (tests/test_explain.py fails when the
committed file and the table in flowc.core.codes disagree).
"""

from __future__ import annotations

from flowc.core.codes import CODES, Code

CONTEXT_NOTES = {
    "conference": "checked with `flowc check --context conference` (a reply to a conference event)",
    "transfer-answer": "checked with `flowc check --context transfer-answer` (a reply to transferAnswer)",
}


def explain_page(code: Code) -> str:
    lines = [f"# {code.code}: {code.title}", "", f"Default severity: {code.severity.label}", "", code.explanation]
    where = "a BXML document" if code.language == "xml" else "a .flow file"
    note = CONTEXT_NOTES.get(code.context) if code.language == "xml" else None
    if code.bad:
        lines += ["", f"Example that triggers it ({where}{', ' + note if note else ''}):", "",
                  f"```{code.language}", code.bad.rstrip("\n"), "```"]
    if code.good:
        lines += ["", "Fixed:", "", f"```{code.language}", code.good.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def diagnostics_markdown() -> str:
    header = [
        "# Diagnostics",
        "",
        "Every problem flowc reports has a stable code. This page is generated from the same table as",
        "`flowc explain CODE` (compiler/core/codes.py); regenerate it with",
        "`python -m flowc.cli.explain > docs/diagnostics.md`.",
        "",
        "Codes by family: FC0xx input and syntax, FC1xx declarations and statements, FC2xx values, FC3xx",
        "conference and webhook-context rules, FC4xx names and flow logic, FC5xx BXML (.xml) files, FC6xx",
        "`flowc import`, FC7xx the generated web app and your hooks module, FC8xx `flowc graph` and the tools it",
        "runs (Graphviz), FC9xx reading files and writing OUT. The same rules run on .flow files",
        "and on BXML documents (`flowc check --context call|conference|transfer-answer doc.xml`), with the",
        "same codes.",
        "",
        "| code | severity | title |",
        "|---|---|---|",
    ]
    header += [f"| [{c.code}](#{c.code.lower()}) | {c.severity.label} | {c.title} |" for c in CODES.values()]
    # an explicit anchor per code keeps the table's links stable whatever the heading's text
    pages = [f'<a id="{c.code.lower()}"></a>\n\n' + explain_page(c).replace(f"# {c.code}:", f"## {c.code}:", 1)
             for c in CODES.values()]
    return "\n".join(header) + "\n\n" + "\n".join(pages)


if __name__ == "__main__":
    print(diagnostics_markdown(), end="")
