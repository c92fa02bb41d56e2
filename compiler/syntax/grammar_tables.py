"""Generate the LALR tables of grammar/flow.lark with Lark's public serialisation (a build step, not run time).

Lark analyses the grammar (strict=True rejects conflicts and colliding terminals) and exports its LALR table
through `lark.tools.serialize`, the JSON export behind `python -m lark.tools.serialize`; nothing here reads a
private attribute. This module turns that export into the compact table flowc's parser runs
(compiler/syntax/parser.py) and numbers rules and states canonically, so that the same grammar always gives the same
file byte for byte (Lark's own numbering follows hash order and changes from run to run) and a test can compare
the shipped file with a fresh build exactly.

    python -m flowc.syntax.grammar_tables          # regenerate grammar/flow.tables.json after editing flow.lark

Lark is needed only here (the `test` extra installs it); `flowc` itself never imports it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

from flowc.grammar import GRAMMAR_PATH, TABLES_PATH

# Scanner order: Python's regex alternation is first-match, so longer forms go first (2s before 2); the most
# frequent tokens (words, strings, newlines) come first because every failed alternative costs time.
TERMINAL_ORDER = ["WORD", "STRING", "_NL", "DURATION", "DATE", "TIME", "PHONE", "NUMBER", "VAR", "COMMA", "LPAR",
                  "RPAR", "LBRACE", "RBRACE", "COMMENT"]
SHIFT, REDUCE = 0, 1  # the action codes of Lark's serialised parse table


def grammar_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lark_export(grammar_text: str) -> dict[str, Any]:
    """Lark's own JSON export of the analysed grammar: {"data": ..., "memo": ...}, rules and terminals memoised."""
    from lark import Lark
    from lark.tools.serialize import serialize

    out = io.StringIO()
    serialize(Lark(grammar_text, parser="lalr", strict=True), out)  # type: ignore[no-untyped-call]
    export: dict[str, Any] = json.loads(out.getvalue())
    return export


def build_tables(grammar_text: str) -> dict[str, Any]:
    """The parser's tables for a grammar, in canonical numbering."""
    export = lark_export(grammar_text)
    memo = export["memo"]
    frontend = export["data"]["parser"]
    table = frontend["parser"]
    symbols = table["tokens"]  # symbol index (as a string) -> terminal or rule name

    def rule_key(ref: dict[str, int]) -> tuple[str, tuple[str, ...]]:
        rule = memo[str(ref["@"])]
        return rule["origin"]["name"], tuple(symbol["name"] for symbol in rule["expansion"])

    for ref in frontend["parser_conf"]["rules"]:
        _refuse_unsupported(memo[str(ref["@"])])
    rules = sorted({rule_key(ref) for ref in frontend["parser_conf"]["rules"]})
    rule_number = {key: i for i, key in enumerate(rules)}

    lark_states = {int(state): {symbols[symbol]: action for symbol, action in actions.items()}
                   for state, actions in table["states"].items()}
    number = _breadth_first(lark_states, table["start_states"]["start"])
    states: list[dict[str, int]] = [{} for _ in number]
    for lark_state, state in number.items():
        for symbol, (action, target) in lark_states[lark_state].items():
            states[state][symbol] = number[target] if action == SHIFT else -(rule_number[rule_key(target)] + 1)
        states[state] = dict(sorted(states[state].items()))

    terminals = {memo[str(ref["@"])]["name"]: _regex(memo[str(ref["@"])]["pattern"])
                 for ref in frontend["lexer_conf"]["terminals"]}
    # The %ignore'd blanks are folded into every token by the scanner (parser.Tables), so they get no entry.
    folded = set(frontend["lexer_conf"]["ignore"]) - set(TERMINAL_ORDER)
    if set(terminals) - folded != set(TERMINAL_ORDER):
        raise ValueError(f"the grammar's terminals {sorted(terminals)} differ from TERMINAL_ORDER: update it")
    return {
        "grammar_hash": grammar_hash(grammar_text),
        "start_state": number[table["start_states"]["start"]],
        "end_state": number[table["end_states"]["start"]],
        "rules": [[origin, len(expansion)] for origin, expansion in rules],
        "states": states,
        "terminals": {name: terminals[name] for name in TERMINAL_ORDER},
    }


def _breadth_first(lark_states: dict[int, dict[str, list[Any]]], start: int) -> dict[int, int]:
    """Canonical state numbers: breadth first from the start state, each state's symbols in name order, so the
    numbering depends on the grammar only, not on Lark's (which follows hash order)."""
    number = {start: 0}
    order = [start]
    for lark_state in order:  # grows while it is walked
        for _, (action, target) in sorted(lark_states[lark_state].items()):
            if action == SHIFT and target not in number:
                number[target] = len(order)
                order.append(target)
    return number


def _refuse_unsupported(rule: dict[str, Any]) -> None:
    """The parser builds nodes by rule name and splices `_rules`; Lark features that change the tree otherwise
    (`?rule`, `-> alias`, `[optional]` placeholders) would be silently ignored, so they are refused here."""
    options = rule["options"]
    if rule["alias"] is not None or options["expand1"] or options["empty_indices"] or options["keep_all_tokens"]:
        raise ValueError(f"rule {rule['origin']['name']}: aliases, ?rules, [..] and !rules are not supported")


def _regex(pattern: dict[str, Any]) -> str:
    if pattern["flags"]:
        raise ValueError(f"terminal flags are not supported: {pattern['raw']}")
    value: str = pattern["value"]
    return value if pattern["__type__"] == "PatternRE" else re.escape(value)


def render(tables: dict[str, Any]) -> str:
    return json.dumps(tables, separators=(",", ":")) + "\n"


def main() -> None:
    from flowc.core.files import write_atomic

    tables = build_tables(GRAMMAR_PATH.read_text())
    write_atomic(TABLES_PATH, render(tables))
    print(f"wrote {TABLES_PATH} ({len(tables['states'])} states, {len(tables['rules'])} rules)")


if __name__ == "__main__":
    main()
