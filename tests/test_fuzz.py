"""Property tests: no input, however broken, makes the compiler raise; it only reports diagnostics."""

from pathlib import Path

from flowc.backend.build import render
from flowc.semantics.project import compile_sources
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text() for p in sorted(ROOT.glob("examples/**/*.flow"))]
PIECES = ["flow", "conference", "say", "join", "gather", "then", "on", "member", "when", "{", "}", "(", ")", ",",
          '"', '"x"', '"{from}"', "{", "env(A)", "hook(b)", "$from", "2s", "1.5", "-3", "+15551234567", "\n", " ",
          "#", "transfer", "number", "max", "timeout", "POST", "mute", "as coach of", "\\", "é", "\t", ";"]


def compile_text(text: str) -> None:
    compilation = compile_sources({"fuzz.flow": text.encode("utf-8", "surrogatepass")})
    for diagnostic in compilation.diagnostics:
        assert diagnostic.code.startswith("FC")
        assert 0 <= diagnostic.span.start <= diagnostic.span.end
    if not compilation.has_errors:
        render(compilation)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=60).map(" ".join))
def test_token_soup_never_raises(text):
    compile_text(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(text):
    compile_text(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_examples_never_raise(data):
    text = data.draw(st.sampled_from(EXAMPLES))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:position] + text[position + data.draw(st.integers(1, 20)):]
        elif action == "insert":
            text = text[:position] + data.draw(st.sampled_from(PIECES)) + text[position:]
        else:
            text = text[:position] + text[position:position + 30] + text[position:]
    compile_text(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    compilation = compile_sources({"fuzz.flow": data})
    assert all(d.code.startswith("FC") for d in compilation.diagnostics)
