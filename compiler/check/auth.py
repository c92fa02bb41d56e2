"""Callback credentials: the project's one `application auth` declaration, passwords written into `auth`
phrases, and secrets served on routes that require no credentials (which routes are open is
flowc.semantics.credentials' decision, over the routes flowc.semantics.routes finds in the analysis, so the
check plans nothing; `flowc compile` reports the open routes themselves, FC711)."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.check.common import CheckContext, diagnostic, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label
from flowc.semantics.credentials import open_route_diagnostics
from flowc.semantics.ir import Attribute, Env, Text
from flowc.semantics.routes import app_routes


@rule("FC713", "FC404")
def application_declarations(context: CheckContext) -> Iterator[Diagnostic]:
    """FC713: one `application auth` per project; FC404 for a literal password in a declaration's `auth`."""
    declarations = [a for file in context.project.files for a in file.applications]
    for repeated in declarations[1:]:
        if _written(repeated.auth) == _written(declarations[0].auth):
            continue  # the same pair again (projects checked together): nothing to choose between
        yield diagnostic("FC713", "the application's callback credentials are declared twice, differently",
                         repeated.span, labels=[Label(declarations[0].span, "first declared here")],
                         help="keep one `application auth USER PASSWORD` for the project",
                         fix=Fix("remove this declaration", (Edit(repeated.span, ""),), safe=False))
    declared = [a.auth for a in declarations] + [f.auth for f in context.flows.values() if f.auth]
    for auth in declared:
        password = auth[1].value
        if isinstance(password, Text) and password.literal is not None:
            yield diagnostic("FC404", "the password of `auth` is written in the file as plain text", password.span,
                             help="read it from the environment: `env(BANDWIDTH_CALLBACK_PASSWORD)`",
                             fix=Fix("use env(BANDWIDTH_CALLBACK_PASSWORD)",
                                     (Edit(password.span, "env(BANDWIDTH_CALLBACK_PASSWORD)"),), safe=False))


def _written(auth: list[Attribute]) -> list[tuple[str, str]]:
    return [(a.name, repr(a.value.name if isinstance(a.value, Env) else getattr(a.value, "literal", a.value)))
            for a in auth]


@rule("FC712")
def secrets_on_open_routes(context: CheckContext) -> Iterator[Diagnostic]:
    """FC712: a document holding a secret served on a route that requires no credentials."""
    yield from open_route_diagnostics(app_routes(context), "FC712", skip=context.is_xml)
