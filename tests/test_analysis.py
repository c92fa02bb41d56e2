"""The project analysis (flowc.semantics.analysis): computed once, read by the checker, the planner and the editor."""

from __future__ import annotations

from flowc.backend.plan import plan
from flowc.bxml.vocabulary import Context
from flowc.check import check_project
from flowc.semantics.analysis import RouteKind, analyse, callback_method
from flowc.semantics.event_routes import event_routes
from flowc.semantics.ir import Attribute, Word
from flowc.semantics.project import compile_sources

PROJECT = """\
conference room "room-{to|safe}" {
    events "/conf/events" method GET
    on member join {
        say "Welcome."
        start recording on recording "/conference-recordings"
    }
    on completed { }
}
flow main on initiate {
    gather max 1 then menu method GET { say "Press 1." }
}
flow menu {
    record on recording "/recordings"
    transfer then done {
        number +15557654321 answer callee
    }
}
flow done {
    hangup
}
flow callee {
    say "A call for you."
}
flow lobby {
    join room
    start recording on recording "/room-recordings"
}
"""


def project():
    return compile_sources({"p.flow": PROJECT.encode()}, check=False).project


def test_the_planner_and_the_editor_read_the_checkers_analysis():
    checked = project()
    check_project(checked)
    analysis = analyse(checked)
    assert analyse(checked) is analysis  # not analysed again
    assert plan(checked).links is analysis.links
    other = project()
    assert analyse(other) is not analysis  # another project: its own analysis
    assert analyse(checked, fresh=True) is not analysis  # the checker always analyses afresh


def test_contexts_are_an_enum_read_from_the_events():
    analysis = analyse(project())
    contexts = {(body.owner.name, body.event): body.context for body in analysis.bodies}
    assert contexts[("main", None)] is Context.CALL
    assert contexts[("room", "conferenceMemberJoin")] is Context.CONFERENCE
    assert contexts[("room", "conferenceCompleted")] is Context.NO_BXML
    assert analysis.links.context("callee") is Context.TRANSFER_ANSWER
    assert all(isinstance(document.context, Context) for document in plan(analysis.project).documents)


def test_joins_merge_the_declared_settings_once():
    analysis = analyse(project())
    [join] = analysis.joins
    assert join.declared is not None and join.declared.name == "room"
    assert join.settings["conferenceEventMethod"].value.value == "GET"  # type: ignore[union-attr]
    assert join.key == "{payload:to|safe}".join(["room-", ""])


def test_one_reading_of_a_callbacks_method():
    assert callback_method(None) == "POST"
    word = Word("get", None)  # type: ignore[arg-type]
    assert callback_method(Attribute("gatherMethod", word, None, None, "")) == "GET"  # type: ignore[arg-type]
    checked = project()
    routes = {route.path: route for route in plan(checked).routes}
    assert routes["/flows/menu"].method == "GET" and routes["/flows/menu"].kind is RouteKind.FLOW
    assert routes["/conf/events"].method == "GET" and routes["/conf/events"].kind is RouteKind.CONFERENCE
    extra = {route.path: route for route in event_routes(checked, set(routes))}
    assert extra["/recordings"].events == ["recordingAvailable"] and extra["/recordings"].kind is RouteKind.EVENT
    assert extra["/room-recordings"].events == ["recordingAvailable"]  # a flow's statement, not a handler's
    assert extra["/conference-recordings"].events == ["conferenceRecordingAvailable"]


OPEN_AND_CLOSED = """\
application auth env(BANDWIDTH_CALLBACK_USER) hook(callback_password)
conference team "team-{to|safe}" {
    auth "agent" hook(team_password)
    on member join { say "hi" }
}
flow main on initiate, answer {
    transfer +15551234567 username "u" password hook(pw) then after
    join team
}
flow after {
    record on recording "/recordings" username "u" password env(RECORDING_PASSWORD)
    redirect to main
}
"""


def test_the_checkers_open_routes_are_the_open_routes_of_the_full_credentials():
    from flowc.semantics.credentials import open_routes, route_credentials
    from flowc.semantics.routes import app_routes

    checked = compile_sources({"a.flow": OPEN_AND_CLOSED.encode(), "b.flow": PROJECT.encode()}, check=False).project
    full = route_credentials(app_routes(analyse(checked, fresh=True)))
    early = open_routes(app_routes(analyse(checked, fresh=True)))  # read each route only until it is closed
    assert set(early) == {path for path, auth in full.items() if auth.is_open} and early
    assert early == {path: full[path] for path in early}
    assert "/flows/main" in early  # the application's password is computed per request (FC705): nothing required
    assert "/recordings" in set(full) - set(early)  # its statement declares a pair of its own
