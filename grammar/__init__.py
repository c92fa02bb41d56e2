"""The .flow grammar (flow.lark, the one source of the syntax) and the LALR tables generated from it.

flow.tables.json is a build artefact: `python -m flowc.grammar_tables` writes it from flow.lark with Lark, and
tests/test_parser.py fails when it is stale. At run time only the tables are read, so Lark is not needed.
"""

from pathlib import Path

GRAMMAR_DIR = Path(__file__).resolve().parent
GRAMMAR_PATH = GRAMMAR_DIR / "flow.lark"
TABLES_PATH = GRAMMAR_DIR / "flow.tables.json"
