"""Build the LALR tables for grammar/flow.lark with Lark and save them beside the grammar.

Lark analyses the grammar (and rejects conflicts: strict=True); flowc's parser then runs the saved tables
with a small driver of its own, so checking a file never pays for importing Lark. The saved file records the
grammar's hash; the parser rebuilds it when the grammar changes (and a test keeps the shipped copy current).

    python -m flowc.grammar_tables        # regenerate grammar/flow.tables.json
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import flowc.grammar
from flowc.files import write_atomic

GRAMMAR_DIR = Path(flowc.grammar.__file__).resolve().parent
GRAMMAR_PATH = GRAMMAR_DIR / "flow.lark"
TABLES_PATH = GRAMMAR_DIR / "flow.tables.json"

# Scanner order: Python's regex alternation is first-match, so longer forms go first (2s before 2); the most
# frequent tokens (words, strings, newlines) come first because every failed alternative costs time.
TERMINAL_ORDER = ["WORD", "STRING", "_NL", "DURATION", "PHONE", "NUMBER", "VAR", "COMMA", "LPAR", "RPAR", "LBRACE",
                  "RBRACE", "COMMENT"]


def grammar_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_tables(grammar_text: str) -> dict:
    from lark import Lark
    from lark.parsers.lalr_analysis import Shift

    parser = Lark(grammar_text, parser="lalr", strict=True)
    table = parser.parser.parser.parser.parse_table
    rules = list(parser.rules)
    rule_index = {id(rule): i for i, rule in enumerate(rules)}
    states = []
    for state_id in range(len(table.states)):
        actions = {}
        for symbol, (action, arg) in table.states[state_id].items():
            actions[symbol] = arg if action is Shift else -(rule_index[id(arg)] + 1)
        states.append(actions)
    terminals = {t.name: t.pattern.to_regexp() for t in parser.terminals}
    return {
        "grammar_hash": grammar_hash(grammar_text),
        "start_state": table.start_states["start"],
        "end_state": table.end_states["start"],
        "rules": [[r.origin.name, len(r.expansion)] for r in rules],
        "states": states,
        "terminals": {name: terminals[name] for name in TERMINAL_ORDER},
    }


def main() -> None:
    tables = build_tables(GRAMMAR_PATH.read_text())
    write_atomic(TABLES_PATH, json.dumps(tables, separators=(",", ":")) + "\n")
    print(f"wrote {TABLES_PATH} ({len(tables['states'])} states, {len(tables['rules'])} rules)")


if __name__ == "__main__":
    main()
