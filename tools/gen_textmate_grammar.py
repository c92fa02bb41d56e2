"""Generate the TextMate grammar of .flow (editors/vscode/syntaxes/flow.tmLanguage.json) from the vocabulary.

The statement keywords, attribute spellings, enum values, conference events, filters and credential pairs all
come from the vocabulary table (compiler/data/bxml.json via flowc.bxml.vocabulary) and from the lowering's own
constants, so editors colour exactly the words the compiler understands. The lexical patterns mirror the
terminals of grammar/flow.lark.

    python tools/gen_textmate_grammar.py           # rewrite the grammar file
    python tools/gen_textmate_grammar.py --check   # exit 1 if the committed file is out of date

tests/test_textmate.py runs the check, and tokenizes every example with the grammar the way VS Code does.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from flowc.bxml.vocabulary import Vocabulary, vocabulary
from flowc.semantics.lower import BOOLEAN_WORDS, CONFERENCE_EVENTS, CREDENTIAL_PAIRS, FILTERS

EDITORS = Path(__file__).resolve().parent.parent / "editors"
OUTPUT = EDITORS / "vscode" / "syntaxes" / "flow.tmLanguage.json"
VIM_OUTPUT = EDITORS / "neovim" / "syntax" / "flow.vim"

# Lexical pieces, after the terminals of grammar/flow.lark.
WORD = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
WORD_RE = re.compile(WORD)
END_OF_WORD = r"(?![A-Za-z0-9_]|-[A-Za-z0-9_])"  # a keyword must not be the start of a longer word
START_OF_WORD = r"(?<![A-Za-z0-9_$.-])"
STATEMENT_START = r"(?:^|(?<=[{;]))[ \t]*"  # a statement starts a line, or follows `{` or `;`
BLANKS = "[ \\t]+"

# How each kind of vocabulary element is coloured when it starts a statement.
KIND_SCOPES = {"verb": "support.function.verb.flow", "child": "support.function.child.flow",
               "ssml": "support.function.ssml.flow"}


def alternation(phrases: set[str]) -> str:
    """A regex matching any phrase, longest first (so `join conference` wins over `join`), words split by blanks."""
    ordered = sorted(phrases, key=lambda p: (-len(p.split()), -len(p), p))
    return "|".join(BLANKS.join(re.escape(word) for word in phrase.split()) for phrase in ordered)


def is_phrase(text: str) -> bool:
    return all(WORD_RE.fullmatch(word) for word in text.split())


def statement_keywords(vocab: Vocabulary) -> dict[str, set[str]]:
    """Statement keywords by element kind (verb, child, ssml)."""
    keywords: dict[str, set[str]] = {kind: set() for kind in KIND_SCOPES}
    for element in vocab.elements.values():
        keywords[element.kind].update(element.keywords)
    return keywords


def attribute_phrases(vocab: Vocabulary, flow_targets: bool) -> set[str]:
    """Every .flow spelling of an attribute; with flow_targets, only those whose value may be a flow name."""
    phrases: set[str] = set()
    for element in vocab.elements.values():
        for attribute in element.attributes.values():
            if flow_targets and not (attribute.is_url and attribute.reply_bxml):
                continue
            phrases.update(p for p in (attribute.name, *attribute.aliases) if is_phrase(p))
    if not flow_targets:
        phrases.update(" ".join(pair) for pair in CREDENTIAL_PAIRS)
    return phrases


def continuations(targets: set[str], attributes: set[str]) -> set[str]:
    """Words that make a longer attribute out of a flow-target one (`answer method`): never a flow name there."""
    return {phrase.split()[len(target.split())] for target in targets for phrase in attributes
            if phrase.startswith(target + " ")}


def enum_values(vocab: Vocabulary, exclude: set[str]) -> set[str]:
    values = {value for element in vocab.elements.values() for attribute in element.attributes.values()
              for value in attribute.enum if WORD_RE.fullmatch(value)}
    return values - exclude


def call_rule(names: str, scope: str) -> dict:
    """`NAME(ARGUMENTS)`; the region also ends at the end of the line, so an unclosed call colours no further."""
    return {
        "begin": rf"{START_OF_WORD}({names})[ \t]*(\()",
        "beginCaptures": {"1": {"name": scope}, "2": {"name": "punctuation.section.parens.begin.flow"}},
        "end": r"(\))|(?=[{}#;]|$)",
        "endCaptures": {"1": {"name": "punctuation.section.parens.end.flow"}},
        "name": "meta.function-call.flow",
        "patterns": [{"include": "#call-arguments"}],
    }


def braces(*includes: str) -> dict:
    """A `{ ... }` region holding the given repository rules."""
    return {
        "begin": r"\{",
        "beginCaptures": {"0": {"name": "punctuation.section.block.begin.flow"}},
        "end": r"\}",
        "endCaptures": {"0": {"name": "punctuation.section.block.end.flow"}},
        "patterns": [{"include": include} for include in includes],
    }


def grammar(vocab: Vocabulary) -> dict:
    keywords = statement_keywords(vocab)
    attributes = attribute_phrases(vocab, flow_targets=False)
    targets = attribute_phrases(vocab, flow_targets=True)
    events = alternation({" ".join(words) for words in CONFERENCE_EVENTS})
    statement_groups = "|".join(f"({alternation(keywords[kind])})" for kind in KIND_SCOPES)
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "flow",
        "scopeName": "source.flow",
        "fileTypes": ["flow"],
        "comment": "Generated by tools/gen_textmate_grammar.py from compiler/data/bxml.json: do not edit.",
        "patterns": [
            {"include": "#comment"},
            {"include": "#flow-declaration"},
            {"include": "#conference-declaration"},
            {"include": "#handler"},
            {"include": "#branch"},
            {"include": "#statement"},
            {"include": "#values"},
        ],
        "repository": {
            "comment": {
                "match": "(#).*$",
                "name": "comment.line.number-sign.flow",
                "captures": {"1": {"name": "punctuation.definition.comment.flow"}},
            },
            "flow-declaration": {
                "comment": "flow NAME [on EVENT, ...] {",
                "begin": rf"^[ \t]*(flow){END_OF_WORD}(?:[ \t]+({WORD}))?",
                "beginCaptures": {"1": {"name": "keyword.other.declaration.flow"},
                                  "2": {"name": "entity.name.function.flow"}},
                "end": r"(?=[{#;])|$",
                "patterns": [
                    {"match": rf"{START_OF_WORD}on{END_OF_WORD}", "name": "keyword.control.on.flow"},
                    {"match": WORD, "name": "support.constant.event.flow"},
                    {"include": "#punctuation"},
                ],
            },
            "conference-declaration": {
                "comment": "conference NAME [\"ROOM\"] [SETTINGS] { SETTINGS, HANDLERS }: its lines are settings",
                "begin": rf"^[ \t]*(conference){END_OF_WORD}(?:[ \t]+({WORD}))?",
                "beginCaptures": {"1": {"name": "keyword.other.declaration.flow"},
                                  "2": {"name": "entity.name.function.conference.flow"}},
                "end": rf"(?<=\}})|(?=^[ \t]*(?:flow|conference){END_OF_WORD})",
                "patterns": [
                    {"include": "#comment"},
                    braces("#comment", "#handler", "#block", "#values"),
                    {"include": "#values"},
                ],
            },
            "block": {
                "comment": "a { ... } of statements (inside a conference, so that its closing brace is found)",
                **braces("#comment", "#branch", "#statement", "#block", "#values"),
            },
            "handler": {
                "comment": "on member join { ... } inside a conference",
                "match": rf"{STATEMENT_START}(on)[ \t]+({events}){END_OF_WORD}",
                "captures": {"1": {"name": "keyword.control.on.flow"},
                             "2": {"name": "support.constant.event.flow"}},
            },
            "branch": {
                "patterns": [
                    {
                        "match": rf"{STATEMENT_START}(when){END_OF_WORD}(?:[ \t]+({WORD}))?",
                        "captures": {"1": {"name": "keyword.control.conditional.flow"},
                                     "2": {"name": "variable.other.field.flow"}},
                    },
                    {
                        "match": rf"{STATEMENT_START}(otherwise){END_OF_WORD}",
                        "captures": {"1": {"name": "keyword.control.conditional.flow"}},
                    },
                ],
            },
            "statement": {
                "comment": "The keyword that starts a statement: a verb, a nested element or an SSML item",
                "match": rf"{STATEMENT_START}(?:{statement_groups}){END_OF_WORD}",
                "captures": {str(i): {"name": scope} for i, scope in enumerate(KIND_SCOPES.values(), start=1)},
            },
            "values": {
                "patterns": [
                    {"include": "#comment"},
                    {"include": "#string"},
                    {"include": "#call"},
                    {"include": "#duration"},
                    {"include": "#phone"},
                    {"include": "#number"},
                    {"include": "#variable"},
                    {"include": "#flow-target"},
                    {"include": "#attribute"},
                    {"include": "#keyword"},
                    {"include": "#constant"},
                    {"include": "#word"},
                    {"include": "#punctuation"},
                ],
            },
            "string": {
                "begin": '"',
                "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.flow"}},
                "end": '(")|$',
                "endCaptures": {"1": {"name": "punctuation.definition.string.end.flow"}},
                "name": "string.quoted.double.flow",
                "patterns": [
                    {"match": r"\\.", "name": "constant.character.escape.flow"},
                    {"match": r"\{\{|\}\}", "name": "constant.character.escape.flow"},
                    {
                        "comment": "a runtime part: {field} or {field|filter}",
                        "match": r"(\{)[ \t]*([A-Za-z][A-Za-z0-9_.]*)[ \t]*(?:(\|)[ \t]*("
                        + "|".join(sorted(FILTERS)) + r")[ \t]*)?(\})",
                        "name": "meta.embedded.placeholder.flow",
                        "captures": {"1": {"name": "punctuation.section.embedded.begin.flow"},
                                     "2": {"name": "variable.other.field.flow"},
                                     "3": {"name": "keyword.operator.filter.flow"},
                                     "4": {"name": "support.function.filter.flow"},
                                     "5": {"name": "punctuation.section.embedded.end.flow"}},
                    },
                    {"match": r'\{[^"]*?(?:\}|(?="|$))', "name": "invalid.illegal.placeholder.flow"},
                ],
            },
            "call": {
                "comment": "env(NAME), hook(name), and any other (unknown) function",
                "patterns": [call_rule("env|hook", "support.function.builtin.flow"),
                             call_rule(WORD, "variable.function.flow")],
            },
            "call-arguments": {
                "patterns": [
                    {"include": "#string"},
                    {"include": "#number"},
                    {"match": WORD, "name": "variable.other.constant.argument.flow"},
                    {"include": "#punctuation"},
                ],
            },
            "duration": {
                "match": rf"{START_OF_WORD}[0-9]+(?:\.[0-9]+)?(ms|s|m|h)(?![A-Za-z0-9_])",
                "name": "constant.numeric.duration.flow",
                "captures": {"1": {"name": "keyword.other.unit.flow"}},
            },
            "phone": {"match": r"\+[0-9]{2,15}(?![A-Za-z0-9_])", "name": "constant.numeric.phone.flow"},
            "number": {"match": rf"{START_OF_WORD}-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_])",
                       "name": "constant.numeric.flow"},
            "variable": {
                "match": r"(\$)[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*",
                "name": "variable.other.field.flow",
                "captures": {"1": {"name": "punctuation.definition.variable.flow"}},
            },
            "flow-target": {
                "comment": "an attribute whose value may be a flow name, then a bare word: `then menu` (not `answer method`)",
                "match": rf"{START_OF_WORD}({alternation(targets)})[ \t]+"
                rf"(?!(?:{alternation(BOOLEAN_WORDS | continuations(targets, attributes))}){END_OF_WORD})"
                rf"({WORD}){END_OF_WORD}(?![ \t]*\()",
                "captures": {"1": {"name": "keyword.other.attribute.flow"},
                             "2": {"name": "entity.name.function.reference.flow"}},
            },
            "attribute": {
                "match": rf"{START_OF_WORD}(?:{alternation(attributes)}){END_OF_WORD}",
                "name": "keyword.other.attribute.flow",
            },
            "keyword": {
                "patterns": [
                    {"match": rf"{START_OF_WORD}on{END_OF_WORD}", "name": "keyword.control.on.flow"},
                    {"match": rf"{START_OF_WORD}(?:flow|conference){END_OF_WORD}",
                     "name": "keyword.other.declaration.flow"},
                ],
            },
            "constant": {
                "patterns": [
                    {"match": rf"{START_OF_WORD}(?:{alternation(BOOLEAN_WORDS)}){END_OF_WORD}",
                     "name": "constant.language.boolean.flow"},
                    {"match": rf"{START_OF_WORD}(?:{alternation(enum_values(vocab, attributes))}){END_OF_WORD}",
                     "name": "constant.language.enum.flow"},
                ],
            },
            "word": {"comment": "any other word (a flow, conference or field name): left uncoloured",
                     "match": WORD},
            "punctuation": {
                "patterns": [
                    {"match": r"\{", "name": "punctuation.section.block.begin.flow"},
                    {"match": r"\}", "name": "punctuation.section.block.end.flow"},
                    {"match": ",", "name": "punctuation.separator.comma.flow"},
                    {"match": ";", "name": "punctuation.terminator.statement.flow"},
                ],
            },
        },
    }


def render(vocab: Vocabulary) -> str:
    return json.dumps(grammar(vocab), indent=2, ensure_ascii=False) + "\n"


# -- Vim / Neovim syntax ----------------------------------------------------------------------------------
# The same words as the TextMate grammar, as a Vim syntax file (editors/neovim/syntax/flow.vim). At one start
# position Vim prefers the item defined last, so general items come first.
VIM_WORD = r"\h[A-Za-z0-9_]*\(-[A-Za-z0-9_]\+\)*"
VIM_BEFORE = r"\(^\|[^A-Za-z0-9_$.-]\)\@1<="
VIM_AFTER = r"\([A-Za-z0-9_]\|-[A-Za-z0-9_]\)\@!"
VIM_STATEMENT_START = r"\(\(^\|[{;]\)\s*\)\@<="
VIM_LINKS = {
    "flowComment": "Comment", "flowString": "String", "flowEscape": "SpecialChar", "flowPlaceholder": "Special",
    "flowBadPlaceholder": "Error", "flowNumber": "Number", "flowDuration": "Number", "flowPhone": "Number",
    "flowVariable": "Identifier", "flowField": "Identifier", "flowDeclaration": "Structure", "flowName": "Function",
    "flowReference": "Function", "flowBuiltin": "Function", "flowVerb": "Statement", "flowChild": "Statement",
    "flowSsml": "Statement", "flowAttribute": "Type", "flowTargetAttribute": "Type", "flowOn": "Conditional",
    "flowConditional": "Conditional", "flowEvent": "Constant", "flowEnum": "Constant", "flowBoolean": "Boolean",
    "flowBrace": "Delimiter", "flowDelimiter": "Delimiter",
}
VIM_KIND_GROUPS = {"verb": "flowVerb", "child": "flowChild", "ssml": "flowSsml"}


def vim_alternation(phrases: set[str]) -> str:
    ordered = sorted(phrases, key=lambda p: (-len(p.split()), -len(p), p))
    return r"\(" + r"\|".join(r"\s\+".join(phrase.split()) for phrase in ordered) + r"\)"


def render_vim(vocab: Vocabulary) -> str:
    keywords = statement_keywords(vocab)
    attributes = attribute_phrases(vocab, flow_targets=False)
    targets = attribute_phrases(vocab, flow_targets=True)
    events = vim_alternation({" ".join(words) for words in CONFERENCE_EVENTS})
    not_flow = vim_alternation(BOOLEAN_WORDS | continuations(targets, attributes))
    lines = [
        '" Vim / Neovim syntax for flowc .flow files.',
        '" Generated by tools/gen_textmate_grammar.py from compiler/data/bxml.json: do not edit.',
        'if exists("b:current_syntax")',
        "  finish",
        "endif",
        "syn case match",
        "",
        "\" plain words (flow, conference and field names) are consumed whole, so `case-1` holds no number",
        f'syn match flowWord "{VIM_WORD}"',
        f'syn match flowEnum "{VIM_BEFORE}{vim_alternation(enum_values(vocab, attributes))}{VIM_AFTER}"',
        f'syn match flowBoolean "{VIM_BEFORE}{vim_alternation(BOOLEAN_WORDS)}{VIM_AFTER}"',
        f'syn match flowOn "{VIM_BEFORE}on{VIM_AFTER}"',
        f'syn match flowAttribute "{VIM_BEFORE}{vim_alternation(attributes)}{VIM_AFTER}"',
        f'syn match flowTargetAttribute "{VIM_BEFORE}{vim_alternation(targets)}{VIM_AFTER}" '
        "nextgroup=flowReference skipwhite",
        f'syn match flowReference contained "\\({not_flow}{VIM_AFTER}\\)\\@!{VIM_WORD}{VIM_AFTER}\\(\\s*(\\)\\@!"',
        f'syn match flowBuiltin "{VIM_BEFORE}\\(env\\|hook\\)\\(\\s*(\\)\\@="',
        f'syn match flowNumber "{VIM_BEFORE}-\\=\\d\\+\\(\\.\\d\\+\\)\\=\\([A-Za-z0-9_]\\)\\@!"',
        f'syn match flowDuration "{VIM_BEFORE}\\d\\+\\(\\.\\d\\+\\)\\=\\(ms\\|s\\|m\\|h\\)\\([A-Za-z0-9_]\\)\\@!"',
        'syn match flowPhone "+\\d\\{2,15}\\([A-Za-z0-9_]\\)\\@!"',
        'syn match flowVariable "\\$\\h\\w*\\(\\.\\h\\w*\\)*"',
        'syn match flowBrace "[{}]"',
        'syn match flowDelimiter "[,;()]"',
        "",
        "\" a statement's keyword: at the start of a line, or after `{` or `;`",
        *(f'syn match {VIM_KIND_GROUPS[kind]} "{VIM_STATEMENT_START}{vim_alternation(keywords[kind])}{VIM_AFTER}"'
          for kind in VIM_KIND_GROUPS),
        f'syn match flowConditional "{VIM_STATEMENT_START}when{VIM_AFTER}" nextgroup=flowField skipwhite',
        f'syn match flowConditional "{VIM_STATEMENT_START}otherwise{VIM_AFTER}"',
        f'syn match flowField contained "{VIM_WORD}"',
        f'syn match flowOn "{VIM_STATEMENT_START}on\\(\\s\\+{events}{VIM_AFTER}\\)\\@=" nextgroup=flowEvent skipwhite',
        f'syn match flowEvent contained "{events}{VIM_AFTER}"',
        "",
        "\" flow NAME [on EVENT, ...] and conference NAME",
        f'syn match flowDeclaration "^\\s*\\zs\\(flow\\|conference\\){VIM_AFTER}" nextgroup=flowName skipwhite',
        f'syn match flowName contained "{VIM_WORD}" nextgroup=flowEntryOn skipwhite',
        f'syn match flowEntryOn contained "on{VIM_AFTER}" nextgroup=flowEntryEvents skipwhite',
        f'syn match flowEntryEvents contained "{VIM_WORD}\\(\\s*,\\s*{VIM_WORD}\\)*" contains=flowDelimiter',
        "",
        'syn region flowString start=+"+ skip=+\\\\.+ end=+"\\|$+ '
        "contains=flowBadPlaceholder,flowPlaceholder,flowEscape",
        'syn match flowBadPlaceholder contained +{[^"]\\{-}\\(}\\|\\ze"\\|$\\)+',
        'syn match flowPlaceholder contained "{\\s*\\a[A-Za-z0-9_.]*\\s*\\(|\\s*'
        + vim_alternation(FILTERS) + '\\s*\\)\\=}"',
        "syn match flowEscape contained +\\\\.\\|{{\\|}}+",
        'syn match flowComment "#.*$" contains=@Spell',
        "",
        *(f"hi def link {group} {target}" for group, target in VIM_LINKS.items()),
        "hi def link flowEntryOn flowOn",
        "hi def link flowEntryEvents flowEvent",
        "",
        'let b:current_syntax = "flow"',
    ]
    return "\n".join(lines) + "\n"


def outputs(vocab: Vocabulary) -> dict[Path, str]:
    return {OUTPUT: render(vocab), VIM_OUTPUT: render_vim(vocab)}


def main(argv: list[str]) -> int:
    for path, text in outputs(vocabulary()).items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                print(f"{path} is out of date: run python tools/gen_textmate_grammar.py", file=sys.stderr)
                return 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
