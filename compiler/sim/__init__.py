"""flowc.sim: an emulator of Bandwidth's voice platform, for tests and for trying flows.

    from flowc.sim import Bandwidth
    with Bandwidth("build/out") as bw:
        call = bw.inbound("main")
        call.press("1")
        print(bw.timeline())

It places simulated calls against a webhook server (an OUT directory's app in-process, or any URL), executes
the BXML the server answers with as Bandwidth documents it, on a virtual clock, and serves Bandwidth's REST
API on loopback. Modules: engine (clock, calls, conferences, verbs), bxml (strict reading of replies),
payloads (webhook bodies and ids), transport (ASGI and HTTP delivery), rest (the REST API), timeline (the
typed record of events), api (the public classes), command (`flowc sim`), pytest_plugin (the `bandwidth`
fixture). Needs `pip install 'flowc[sim]'`.
"""

from flowc.sim.api import Bandwidth, Call, Conference
from flowc.sim.engine import Faults
from flowc.sim.timeline import Event, Heard, Note, RestRequest, StateChange, Verb, Webhook

__all__ = ["Bandwidth", "Call", "Conference", "Event", "Faults", "Heard", "Note", "RestRequest", "StateChange",
           "Verb", "Webhook"]
