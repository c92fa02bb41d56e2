"""Benchmark flowc.sim: whole simulated calls against an OUT directory's app in-process, and a full conference.

    .venv/bin/python benchmarks/bench_sim.py [--calls 2000] [--rounds 5]

1. An IVR call of examples/ivr-menu, in-process (ASGI, no sockets): initiate, the caller presses 1 (gather,
   then redirect to billing), presses 2 (gather: the balance from a hook, then redirect back to the menu),
   hangs up: five webhooks answered with BXML plus the recordingAvailable event, every reply read strictly
   and checked. Reports calls per second (best of the rounds) on one emulator.
2. A conference of 20 members (examples/seed's `join`, with an event URL so that created, 20 joins, 20 exits
   and completed are all delivered to a scripted app), from the first call to the completion: milliseconds.

The figures, with the machine they come from, are in docs/performance.md ("Emulator").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOOKS = '''
def balance_sentence(payload):
    return "Your balance is 42 dollars."

def payment_result(payload):
    return "Thank you."

async def on_recording_available(payload):
    pass
'''


# examples/ivr-menu declares the application's callback credentials (`application auth env(...)`): the app
# requires them on every route and the emulator sends them, both reading these variables.
CALLBACK_CREDENTIALS = {"BANDWIDTH_CALLBACK_USER": "bandwidth", "BANDWIDTH_CALLBACK_PASSWORD": "bench-s3cret"}


def build_ivr(workdir: Path) -> Path:
    from flowc.cli.commands import main as flowc

    out = workdir / "ivr" / "out"
    if flowc(["compile", str(ROOT / "examples" / "ivr-menu"), "-o", str(out)]) != 0:
        sys.exit("examples/ivr-menu did not compile")
    (out.parent / "hooks.py").write_text(HOOKS)
    return out


def ivr_calls(out: Path, calls: int, rounds: int) -> float:
    from flowc.sim import Bandwidth

    best = 0.0
    with Bandwidth(out, rest=False) as bw:
        engine = bw.engine
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                call = bw.inbound("main")
                call.press("1")
                call.press("2")
                call.hangup()
            elapsed = time.perf_counter() - started
            webhooks = len(engine.webhooks)
            refused = [w for w in engine.webhooks if not w.accepted]
            assert not refused, refused[0]
            engine.webhooks.clear()
            engine.events.clear()
            engine.calls.clear()
            best = max(best, calls / elapsed)
        print(f"IVR call (examples/ivr-menu, {webhooks // calls} webhooks a call, in-process): "
              f"{best:,.0f} calls/s (best of {rounds} rounds of {calls})")
    return best


def conference(rounds: int) -> float:
    sys.path.insert(0, str(ROOT / "tests"))
    from flowc.sim import Bandwidth
    from sim_helpers import ScriptedApp, response, say

    app = ScriptedApp({"/join": response(say("You will be added to your conference now."),
                                         "<Conference conferenceEventUrl='/events'>my-conference-name</Conference>"),
                       "/events": (204, "")})
    best = float("inf")
    with Bandwidth(app=app, rest=False) as bw:
        for _ in range(rounds):
            app.requests.clear()
            started = time.perf_counter()
            members = [bw.inbound("/join") for _ in range(20)]
            for member in members:
                member.hangup()
            elapsed = time.perf_counter() - started
            events = [r.event_type for r in app.requests if r.event_type.startswith("conference")]
            assert events.count("conferenceMemberJoin") == 20 and events[-1] == "conferenceCompleted", events
            best = min(best, elapsed)
    print(f"conference of 20 members with its {len(events)} events (created, joins, exits, completed): "
          f"{best * 1000:.1f} ms (best of {rounds})")
    return best


def main() -> None:
    for name, value in CALLBACK_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        out = build_ivr(Path(workdir))
        ivr_calls(out, args.calls, args.rounds)
        conference(args.rounds)


if __name__ == "__main__":
    main()
