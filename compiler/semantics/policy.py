"""Lowering of a room's policy lines: the statements of a `conference` block that are not Bandwidth settings.

    conference standup "standup" {
        wait for host play "https://cdn.example.com/hold.mp3"
        max 5 else full
        limit 30m warn 1m "One minute left."
        end when host leaves
        tone join "https://cdn.example.com/beep.wav"
        key "*6" mute
        role supervisor coach of agent
    }

Each line becomes a field of `ir.Policy`; `join NAME as ROLE` gives a join its role. What the lines mean on
Bandwidth (a lobby outside the conference, REST calls from the app, timers) is flowc.backend.rooms' business; here
only their shape is read, and a malformed line is FC120 with the form it should take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowc.core.diagnostics import Span
from flowc.semantics.ir import ROLE_KINDS, Key, Policy, Role, Text, Tone
from flowc.syntax.tree import Atom, Statement

if TYPE_CHECKING:
    from flowc.semantics.lower import Lowering

# The form of each line (its first word is the line's keyword), as FC120 shows it.
_KEY_FORM = 'key "*6" mute|leave|kick last|lock|monitor|whisper|barge [for ROLE, ...]'
FORMS = {form.split()[0]: f"`{form}`" for form in (
    "role NAME host|member|coach|listener [of ROLE, ...]",
    'wait for host play "URL"',
    "max N else FLOW",
    'limit 30m [warn 1m "TEXT"]',
    'tone join|exit "URL" [for ROLE, ...]',
    "end when [any] host leaves",
    _KEY_FORM,
)}
FORMS["end"] = "`end when host leaves` or `end when any host leaves`"
POLICY_HEADS = tuple(FORMS)
# What a key does: the words after its digits (as its form lists them), and the action's name; the first,
# mute, toggles (toggle-mute)
_ACTION_WORDS = _KEY_FORM[len('key "*6" '):_KEY_FORM.index(" [")].split("|")
KEY_ACTIONS = {tuple(words.split()): ("toggle-" + words if index == 0 else words.replace(" ", "-"))
               for index, words in enumerate(_ACTION_WORDS)}
ROLE_WORDS = (*ROLE_KINDS, "moderator")


def policy_line(lowering: Lowering, policy: Policy, statement: Statement) -> None:
    """Read one policy line into `policy`; FC120 when it does not have its form."""
    head = statement.atoms[0].text
    if statement.block is not None:
        _malformed(lowering, statement, head)
        return
    atoms = statement.atoms[1:]
    reader = dict(zip(POLICY_HEADS, (_role, _wait, _max, _limit, _tone, _end, _key), strict=True))[head]
    if not reader(lowering, policy, statement, atoms):
        _malformed(lowering, statement, head)


def _malformed(lowering: Lowering, statement: Statement, head: str) -> None:
    lowering.error("FC120", f"a room's `{head}` line is written {FORMS[head]}", statement,
                   help="see `flowc explain FC120` and the Rooms section of docs/language.md")


def _words(atoms: list[Atom]) -> list[str]:
    return [a.text if a.kind == "WORD" else "" for a in atoms]


def _span(lowering: Lowering, first: Atom, last: Atom) -> Span:
    return Span(lowering.path, first.start, last.end)


def _role_list(atoms: list[Atom]) -> list[str] | None:
    """`a, b, c` -> names; None when it is not a list of words."""
    names = [a.text for a in atoms if a.kind == "WORD"]
    if not names or any(a.kind not in ("WORD", "COMMA") for a in atoms):
        return None
    return names


def _for_roles(atoms: list[Atom]) -> tuple[list[Atom], list[str] | None]:
    """Split off a trailing `for ROLE, ...`: (the atoms before it, the roles or [] when absent, None if bad)."""
    words = _words(atoms)
    if "for" not in words:
        return atoms, []
    at = words.index("for")
    return atoms[:at], _role_list(atoms[at + 1:])


def _role(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    words = _words(atoms)
    if len(atoms) < 2 or not words[0] or words[1] not in ROLE_WORDS:
        return False
    kind = "host" if words[1] == "moderator" else words[1]
    coaches: list[str] = []
    if len(atoms) > 2:
        if kind != "coach" or words[2] != "of":
            return False
        found = _role_list(atoms[3:])
        if found is None:
            return False
        coaches = found
    policy.roles.append(Role(words[0], kind, lowering.span(statement), coaches))
    return True


def _wait(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    words = _words(atoms)
    if words[:2] != ["for", "host"]:
        return False
    rest = atoms[2:]
    if rest and rest[0].kind == "WORD" and rest[0].text == "play":
        rest = rest[1:]
    if len(rest) != 1 or rest[0].kind != "STRING":
        return False
    policy.lobby = lowering.text(rest[0])
    policy.lobby_span = lowering.span(statement)
    return True


def _max(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    if not atoms or atoms[0].kind != "NUMBER" or not atoms[0].text.isdigit():
        return False
    policy.cap, policy.cap_span = int(atoms[0].text), lowering.span(atoms[0])
    rest = atoms[1:]
    if not rest:
        return True
    if len(rest) != 2 or _words(rest)[0] != "else" or rest[1].kind != "WORD":
        return False
    policy.overflow, policy.overflow_span = rest[1].text, lowering.span(rest[1])
    return True


def _seconds(atom: Atom) -> float | None:
    if atom.kind != "DURATION":
        return None
    digits = atom.text.rstrip("mshd")
    return float(digits) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[atom.text[len(digits):]]


def _limit(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    limit = _seconds(atoms[0]) if atoms else None
    if limit is None:
        return False
    policy.limit, policy.limit_span = limit, lowering.span(statement)
    rest = atoms[1:]
    if not rest:
        return True
    before = _seconds(rest[1]) if len(rest) == 3 and _words(rest)[0] == "warn" else None
    if before is None or rest[2].kind != "STRING":
        return False
    policy.warn_before, policy.warning = before, lowering.text(rest[2])
    return True


def _tone(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    atoms, roles = _for_roles(atoms)
    words = _words(atoms)
    if roles is None or len(atoms) != 2 or words[0] not in ("join", "exit") or atoms[1].kind != "STRING":
        return False
    url: Text = lowering.text(atoms[1])
    policy.tones.append(Tone("join" if words[0] == "join" else "exit", url, lowering.span(statement), roles))
    return True


def _end(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    words = _words(atoms)
    if words in (["when", "host", "leaves"], ["when", "last", "host", "leaves"]):
        policy.end = "last"
    elif words == ["when", "any", "host", "leaves"]:
        policy.end = "any"
    else:
        return False
    policy.end_span = lowering.span(statement)
    return True


def _key(lowering: Lowering, policy: Policy, statement: Statement, atoms: list[Atom]) -> bool:
    atoms, roles = _for_roles(atoms)
    if roles is None or len(atoms) < 2 or atoms[0].kind != "STRING":
        return False
    digits = atoms[0].text[1:-1]
    action = KEY_ACTIONS.get(tuple(_words(atoms[1:])))
    if action is None or not digits or any(c not in "0123456789*#" for c in digits):
        return False
    policy.keys.append(Key(digits, action, lowering.span(statement), lowering.span(atoms[0]), roles))
    return True


def join_role(lowering: Lowering, atoms: list[Atom], index: int) -> tuple[str, Span] | None:
    """`as host` at atoms[index] in a `join` (not `as coach of ...`, the callIdsToCoach attribute)."""
    if index + 1 >= len(atoms) or atoms[index].text != "as" or atoms[index + 1].kind != "WORD":
        return None
    following = atoms[index + 2] if index + 2 < len(atoms) else None
    if atoms[index + 1].text == "coach" and following is not None and following.kind == "WORD" \
            and following.text == "of":
        return None
    return atoms[index + 1].text, _span(lowering, atoms[index], atoms[index + 1])
