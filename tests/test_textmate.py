"""The VS Code extension's TextMate grammar colours .flow the way the compiler reads it.

Every example is tokenized with the real vscode-textmate + vscode-oniguruma (tests/textmate/tokenize.js, the
engine VS Code runs), and the colours are checked against what flowc itself makes of the same text: its lexer
(comments, strings, numbers, durations, phone numbers, $fields, braces) and its lowered IR (flow and conference
names, statement keywords, attribute names, flow references, handlers, branches, env()/hook(), {runtime}
parts). The grammar is generated from the vocabulary table, and checked to be up to date, so it cannot drift.

Needs node and npm (CI has both): the npm packages pinned in tests/textmate/package-lock.json are installed on
first use.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from flowc.bxml.vocabulary import vocabulary
from flowc.semantics.ir import Element, Env, ListValue, Slot, Text, Word, walk
from flowc.semantics.lower import lower
from flowc.syntax.parser import lex, parse

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "textmate"
TOOL = ROOT / "tools" / "gen_textmate_grammar.py"
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "flow.tmLanguage.json"
EXAMPLES = sorted((ROOT / "examples").rglob("*.flow"))
FLOW_BLOCK = re.compile(r"^```flow\n(.*?)^```$", re.MULTILINE | re.DOTALL)
KIND_SCOPES = {"verb": "support.function.verb.flow", "child": "support.function.child.flow",
               "ssml": "support.function.ssml.flow"}
LEXICAL_SCOPES = {
    "STRING": "string.quoted.double.flow",
    "NUMBER": "constant.numeric.flow",
    "DURATION": "constant.numeric.duration.flow",
    "PHONE": "constant.numeric.phone.flow",
    "VAR": "variable.other.field.flow",
    "LBRACE": "punctuation.section.block.begin.flow",
    "RBRACE": "punctuation.section.block.end.flow",
    "COMMA": "punctuation.separator.comma.flow",
    "COMMENT": "comment.line.number-sign.flow",
}


def load_tool():
    spec = importlib.util.spec_from_file_location("gen_textmate_grammar", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the pinned vscode-textmate and vscode-oniguruma installed (`npm ci` on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("tests/test_textmate.py needs node (>= 18) and npm on PATH to run vscode-textmate; "
                    "install Node.js (e.g. `apt-get install nodejs npm`)")
    modules = NODE_DIR / "node_modules"
    if not all((modules / name / "package.json").is_file() for name in ("vscode-textmate", "vscode-oniguruma")):
        done = run([npm, "ci", "--no-audit", "--no-fund"], NODE_DIR, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"`npm ci` in {NODE_DIR} failed:\n{done.stdout}\n{done.stderr}")
    return node


@dataclass
class Colours:
    """The TextMate scopes of every character of one file, by offset (as flowc's spans count)."""

    text: str
    scopes: list[tuple[str, ...]]

    def at(self, start: int, end: int) -> list[tuple[str, ...]]:
        return self.scopes[start:end]

    def assert_scope(self, start: int, end: int, scope: str, what: str = "") -> None:
        """Every non-blank character in [start, end) has `scope` (or a more specific one below it)."""
        for offset in range(start, end):
            if self.text[offset].isspace():
                continue
            if not any(s == scope or s.startswith(scope + ".") for s in self.scopes[offset]):
                line = self.text.count("\n", 0, offset) + 1
                raise AssertionError(f"line {line}: {self.text[start:end]!r} {what}: character {self.text[offset]!r} "
                                     f"has scopes {self.scopes[offset]}, expected {scope}")


def tokenize(node: str, files: list[Path]) -> dict[Path, Colours]:
    done = run([node, str(NODE_DIR / "tokenize.js"), *map(str, files)], ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    result = {}
    for name, lines in json.loads(done.stdout).items():
        text = Path(name).read_text()
        scopes: list[tuple[str, ...]] = [("source.flow",)] * len(text)
        offset = 0
        for line, tokens in zip(text.split("\n"), lines, strict=True):
            for token in tokens:
                for column in range(token["start"], token["end"]):
                    scopes[offset + column] = tuple(token["scopes"])
            offset += len(line) + 1
        result[Path(name)] = Colours(text, scopes)
    return result


def sources() -> list[str]:
    """The examples, and the ```flow blocks of docs/language.md that compile without errors (one per statement
    of the reference, at least)."""
    blocks = []
    for index, block in enumerate(FLOW_BLOCK.findall((ROOT / "docs" / "language.md").read_text())):
        module, errors = parse(block, "block.flow")
        if not errors and not [d for d in lower(module)[1] if d.severity.name == "ERROR"]:
            blocks.append(f"docs/language.md#{index}")
    return [str(p.relative_to(ROOT)) for p in EXAMPLES] + blocks


SOURCES = sources()


@pytest.fixture(scope="session")
def examples(node, tmp_path_factory) -> dict[str, Colours]:
    """Every source tokenized, by its name in SOURCES."""
    assert EXAMPLES and len(SOURCES) > len(EXAMPLES) + 30
    blocks = FLOW_BLOCK.findall((ROOT / "docs" / "language.md").read_text())
    folder = tmp_path_factory.mktemp("docs")
    files = {}
    for name in SOURCES:
        if "#" in name:
            files[name] = folder / f"block{name.split('#')[1]}.flow"
            files[name].write_text(blocks[int(name.split("#")[1])])
        else:
            files[name] = ROOT / name
    colours = tokenize(node, list(files.values()))
    return {name: colours[path] for name, path in files.items()}


@pytest.fixture
def colour(node, tmp_path):
    """Tokenize a snippet of .flow text."""

    def colour(text: str) -> Colours:
        path = tmp_path / "snippet.flow"
        path.write_text(text)
        return tokenize(node, [path])[path]

    return colour


def test_grammar_file_is_generated_from_the_vocabulary():
    tool = load_tool()
    assert GRAMMAR.read_text() == tool.render(vocabulary()), "run: python tools/gen_textmate_grammar.py"
    assert tool.main(["--check"]) == 0


@pytest.mark.parametrize("path", SOURCES)
def test_examples_tokens_match_the_lexer(examples, path):
    """Comments, strings, numbers, durations, phone numbers, $fields, commas and braces, as flowc lexes them."""
    colours = examples[path]
    comments, errors = [], []
    tokens = list(lex(colours.text, comments, errors, str(path)))
    assert not errors
    checked = 0
    for token in [*tokens, *comments]:
        scope = LEXICAL_SCOPES.get(token.kind)
        if scope:
            colours.assert_scope(token.start, token.end, scope, token.kind)
            checked += 1
        if token.kind == "STRING":
            check_string_parts(colours, token.start, token.text)
    assert checked > 0


def check_string_parts(colours: Colours, start: int, text: str) -> None:
    """Escapes and {runtime} parts inside a string literal."""
    for match in re.finditer(r"\\.|\{\{|\}\}|\{([^{}]*)\}", text):
        where = start + match.start(), start + match.end()
        if match.group(1) is None:
            colours.assert_scope(*where, "constant.character.escape.flow", "escape")
        else:
            colours.assert_scope(*where, "meta.embedded.placeholder.flow", "runtime part")
            field = start + match.start(1) + len(match.group(1)) - len(match.group(1).lstrip())
            colours.assert_scope(field, field + 1, "variable.other.field.flow", "runtime field")


@pytest.mark.parametrize("path", SOURCES)
def test_examples_constructs_match_the_compiler(examples, path):
    """Declarations, statement keywords, attributes, flow references, handlers and branches, as flowc lowers them."""
    colours = examples[path]
    module, errors = parse(colours.text, str(path))
    flow_file, diagnostics = lower(module)
    assert not errors and not [d for d in diagnostics if d.severity.name == "ERROR"]
    vocab = vocabulary()
    for flow in flow_file.flows:
        colours.assert_scope(flow.span.start, flow.span.start + len("flow"), "keyword.other.declaration.flow")
        colours.assert_scope(flow.name_span.start, flow.name_span.end, "entity.name.function.flow", "flow name")
        bodies = [flow.body, *(branch.body for branch in flow.branches)]
        for branch in flow.branches:
            colours.assert_scope(branch.span.start, branch.span.start + len("when"),
                                 "keyword.control.conditional.flow", "when")
        for match in re.finditer(r"(?m)(?:^|[{;])[ \t]*(otherwise)\b", colours.text[flow.span.start:flow.span.end]):
            at = flow.span.start + match.start(1)
            colours.assert_scope(at, at + len("otherwise"), "keyword.control.conditional.flow")
        for event in flow.entry_events:
            header = colours.text[flow.span.start:colours.text.index("{", flow.span.start)]
            at = flow.span.start + re.search(rf"\b{event}\b", header).start()
            colours.assert_scope(at, at + len(event), "support.constant.event.flow", "entry event")
        check_bodies(colours, bodies, vocab)
    for conference in flow_file.conferences:
        colours.assert_scope(conference.span.start, conference.span.start + len("conference"),
                             "keyword.other.declaration.flow")
        colours.assert_scope(conference.name_span.start, conference.name_span.end,
                             "entity.name.function.conference.flow", "conference name")
        check_attributes(colours, conference.settings, vocab.elements["Conference"])
        for handler in conference.handlers:
            colours.assert_scope(handler.span.start, handler.span.start + len("on"), "keyword.control.on.flow")
            head = colours.text[handler.span.start:colours.text.index("{", handler.span.start)]
            event = head.split(None, 1)[1]
            at = handler.span.start + head.index(event)
            colours.assert_scope(at, at + len(event.rstrip()), "support.constant.event.flow", "handler event")
        check_bodies(colours, [h.body for h in conference.handlers], vocab)


def check_bodies(colours: Colours, bodies, vocab) -> None:
    for body in bodies:
        for element in walk(body):
            spec = vocab.elements[element.tag]
            keyword = colours.text[element.keyword_span.start:element.keyword_span.end]
            if " ".join(keyword.split()) in spec.keywords:  # written, not implied (`transfer +1555...`)
                colours.assert_scope(element.keyword_span.start, element.keyword_span.end, KIND_SCOPES[spec.kind],
                                     f"keyword of <{element.tag}>")
            check_attributes(colours, element.attributes, spec)
            check_values(colours, [a.value for a in element.attributes])
            check_values(colours, [item for item in element.content if not isinstance(item, Element)])


def check_attributes(colours: Colours, attributes, spec) -> None:
    for attribute in attributes:
        name = colours.text[attribute.name_span.start:attribute.name_span.end]
        if " ".join(name.split()) != attribute.written:  # a positional value: `break 300ms`, `param "a" "b"`
            continue
        colours.assert_scope(attribute.name_span.start, attribute.name_span.end, "keyword.other.attribute.flow",
                             "attribute name")
        described = spec.attributes[attribute.name]
        if described.is_url and described.reply_bxml and isinstance(attribute.value, Word):
            colours.assert_scope(attribute.value.span.start, attribute.value.span.end,
                                 "entity.name.function.reference.flow", "flow named by an attribute")


def check_values(colours: Colours, values) -> None:
    for value in values:
        if isinstance(value, ListValue):
            check_values(colours, value.items)
        elif isinstance(value, Text):
            check_values(colours, [part for part in value.parts if isinstance(part, Slot)])
        elif isinstance(value, Env | Slot):
            written = colours.text[value.span.start:value.span.end]
            if written.startswith(("env", "hook")):
                name = written.split("(")[0].strip()
                colours.assert_scope(value.span.start, value.span.start + len(name), "support.function.builtin.flow")
                colours.assert_scope(value.span.start, value.span.end, "meta.function-call.flow", f"{name}()")
            elif written.startswith("{"):
                colours.assert_scope(value.span.start, value.span.end, "meta.embedded.placeholder.flow")
            else:
                assert written.startswith("$"), written
                colours.assert_scope(value.span.start, value.span.end, "variable.other.field.flow")


def test_every_statement_keyword_of_the_vocabulary_is_coloured(colour):
    """At the start of a line, after `{` and after `;`, with the scope of its kind, for every element."""
    cases = sorted({(keyword, element.kind) for element in vocabulary().elements.values()
                    for keyword in element.keywords})
    assert len(cases) > 30
    lines = []
    for keyword, _ in cases:
        lines += [f"    {keyword} \"x\"", f"    say {{ {keyword} }}", f"    hangup; {keyword}"]
    colours = colour("flow f {\n" + "\n".join(lines) + "\n}\n")
    line_starts = [0] + [m.end() for m in re.finditer("\n", colours.text)]
    for index, (keyword, kind) in enumerate(cases):
        for variant, column in enumerate((4, 10, 12)):  # `    KW "x"`, `    say { KW }`, `    hangup; KW`
            at = line_starts[1 + 3 * index + variant] + column
            assert colours.text[at:at + len(keyword)] == keyword
            colours.assert_scope(at, at + len(keyword), KIND_SCOPES[kind], f"keyword `{keyword}`")


def test_every_attribute_spelling_of_the_vocabulary_is_coloured(colour):
    phrases = sorted({p for element in vocabulary().elements.values() for a in element.attributes.values()
                      for p in (a.name, *a.aliases) if re.fullmatch(r"[A-Za-z_][\w-]*( [A-Za-z_][\w-]*)*", p)})
    assert {"then", "timeout", "as coach of", "gatherUrl"} <= set(phrases)
    colours = colour("flow f {\n" + "\n".join(f'    say "x" {p} 1' for p in phrases) + "\n}\n")
    line_starts = [0] + [m.end() for m in re.finditer("\n", colours.text)]
    for index, phrase in enumerate(phrases):
        at = line_starts[1 + index] + len('    say "x" ')
        colours.assert_scope(at, at + len(phrase), "keyword.other.attribute.flow", f"attribute `{phrase}`")


def test_strings_escapes_and_runtime_parts(colour):
    colours = colour('flow f {\n    say "a \\"b\\" {{x}} {from|safe} { to } {1bad} # no comment" # comment\n'
                     '    say "unterminated\n    say "next"\n}\n')
    text = colours.text
    line = text.splitlines()[1]
    base = text.index(line)

    def span(needle: str) -> tuple[int, int]:
        at = text.index(needle, base)
        return at, at + len(needle)

    colours.assert_scope(*span('"a'), "string.quoted.double.flow")
    for escape in ('\\"', "{{", "}}"):
        colours.assert_scope(*span(escape), "constant.character.escape.flow")
    colours.assert_scope(*span("{from|safe}"), "meta.embedded.placeholder.flow")
    colours.assert_scope(*span("from"), "variable.other.field.flow")
    colours.assert_scope(*span("safe"), "support.function.filter.flow")
    colours.assert_scope(*span("{ to }"), "meta.embedded.placeholder.flow")
    colours.assert_scope(*span("{1bad}"), "invalid.illegal.placeholder.flow")
    colours.assert_scope(*span("# no comment"), "string.quoted.double.flow")
    assert not any(s.startswith("comment") for scopes in colours.at(*span("# no comment")) for s in scopes)
    colours.assert_scope(*span("# comment\n"), "comment.line.number-sign.flow")
    # An unterminated string stops at the end of its line: the next statement is coloured normally.
    at = text.index('say "next"')
    colours.assert_scope(at, at + 3, "support.function.verb.flow")
    colours.assert_scope(at + 4, at + 10, "string.quoted.double.flow")


def test_values_words_and_declarations(colour):
    colours = colour(
        "conference room-1 \"r\" timeout 10 {\n"
        "    tag \"in-conference\"\n"
        "    on recording available { }\n"
        "    on member join { tag \"in-handler\" }\n"
        "}\n"
        "flow after-hours on initiate, answer {\n"
        "    transfer +15551234567 from $from.number timeout 2.5s then next-step tag \"a\" privacy true\n"
        "    pause 500ms; redirect to main\n"
        "    send dtmf \"1\" tone -1 gap 3m\n"
        "    join room-1 as coach of hook(agent), env(X)\n"
        "    when digits \"1\" { hangup }\n"
        "    otherwise { say \"x\" gender male }\n"
        "}\n")
    text = colours.text

    def check(needle: str, scope: str, nth: int = 0) -> None:
        at = -1
        for _ in range(nth + 1):
            at = text.index(needle, at + 1)
        colours.assert_scope(at, at + len(needle), scope)

    check("conference", "keyword.other.declaration.flow")
    check("room-1", "entity.name.function.conference.flow")
    check("10", "constant.numeric.flow")
    check("recording available", "support.constant.event.flow")
    # Inside a conference a line is a setting (`tag` the attribute); inside a handler, a statement (`tag` the verb).
    check("tag", "keyword.other.attribute.flow")
    check("tag", "support.function.verb.flow", nth=1)
    check("after-hours", "entity.name.function.flow")
    check("initiate", "support.constant.event.flow")
    check("answer", "support.constant.event.flow")
    check("+15551234567", "constant.numeric.phone.flow")
    check("$from.number", "variable.other.field.flow")
    check("2.5s", "constant.numeric.duration.flow")
    unit = text.index("2.5s") + 3
    colours.assert_scope(unit, unit + 1, "keyword.other.unit.flow")
    check("then", "keyword.other.attribute.flow")
    check("next-step", "entity.name.function.reference.flow")
    check("tag", "keyword.other.attribute.flow", nth=2)
    check("true", "constant.language.boolean.flow")
    check("500ms", "constant.numeric.duration.flow")
    check(";", "punctuation.terminator.statement.flow")
    check("redirect", "support.function.verb.flow")
    check("main", "entity.name.function.reference.flow")
    check("send dtmf", "support.function.verb.flow")
    check(" -1 ", "constant.numeric.flow")
    check("3m", "constant.numeric.duration.flow")
    check("join", "support.function.verb.flow", nth=1)
    check("as coach of", "keyword.other.attribute.flow")
    check("hook", "support.function.builtin.flow")
    check("agent", "variable.other.constant.argument.flow")
    check("env", "support.function.builtin.flow")
    check("when", "keyword.control.conditional.flow")
    check("digits", "variable.other.field.flow")
    check("hangup", "support.function.verb.flow")
    check("otherwise", "keyword.control.conditional.flow")
    check("male", "constant.language.enum.flow")
    # A word with an inner `-1` is one word, not a word and a number.
    at = text.index("room-1", text.index("join"))
    assert not any(s.startswith("constant") for scopes in colours.at(at, at + 6) for s in scopes)


def test_vscode_extension_manifest():
    manifest = json.loads((EXTENSION / "package.json").read_text())
    contributes = manifest["contributes"]
    [language] = contributes["languages"]
    assert language["id"] == "flow" and ".flow" in language["extensions"]
    configuration = json.loads((EXTENSION / language["configuration"]).read_text())
    assert configuration["comments"]["lineComment"] == "#"
    assert ["{", "}"] in configuration["brackets"]
    [grammar] = contributes["grammars"]
    assert grammar["language"] == "flow"
    assert grammar["scopeName"] == json.loads((EXTENSION / grammar["path"]).read_text())["scopeName"] == "source.flow"
    assert (EXTENSION / manifest["main"]).is_file()
    assert "onLanguage:flow" in manifest["activationEvents"]
    assert manifest["engines"]["vscode"] and "vscode-languageclient" in manifest["dependencies"]
    lock = json.loads((EXTENSION / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/vscode-languageclient"]["version"] == manifest["dependencies"][
        "vscode-languageclient"]
    settings = contributes["configuration"]["properties"]
    assert settings["flowc.serverPath"]["default"] == "flowc"
    assert settings["flowc.serverArgs"]["default"] == ["lsp"]
    # Every setting the extension reads is declared, and every command it registers is contributed.
    source = (EXTENSION / manifest["main"]).read_text()
    read = set(re.findall(r"config\.get\('(\w+)'\)", source))
    assert read == {"serverPath", "serverArgs"}
    assert {f"flowc.{name}" for name in read} <= set(settings)
    registered = set(re.findall(r"registerCommand\('([\w.]+)'", source))
    assert registered == {c["command"] for c in contributes.get("commands", [])}
    assert manifest["activationEvents"] and all(
        e.startswith(("onLanguage:", "workspaceContains:", "onCommand:")) for e in manifest["activationEvents"])


def test_vscode_extension_sources_parse(node):
    """The extension's JavaScript parses, and the language configuration's regexes compile in JavaScript."""
    done = run([node, "--check", str(EXTENSION / "src" / "extension.js")], ROOT, timeout=30)
    assert done.returncode == 0, done.stderr
    configuration = json.loads((EXTENSION / "language-configuration.json").read_text())
    patterns = [configuration["wordPattern"], *configuration["indentationRules"].values()]
    script = "for (const p of JSON.parse(process.argv[1])) new RegExp(p);"
    done = run([node, "-e", script, json.dumps(patterns)], ROOT, timeout=30)
    assert done.returncode == 0, done.stderr
