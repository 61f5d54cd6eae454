"""Every route of the app with its full path template.

FastAPI now keeps included routers as branches (`app.routes` holds the branch, not the
routes under it), so the full template (`/api/v1/orgs/{org_id}`) has to be assembled from the
branch's effective routes. Metrics label requests by it; the authorization matrix and the
input-hardening tests walk it to find every route.
"""

from collections.abc import Iterable, Iterator
from re import Pattern
from typing import Any

from starlette.routing import BaseRoute, compile_path


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, Any]]:
    """(full path template, route object) for every leaf route."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            for context in contexts():
                yield context.path_format, context.original_route
        else:
            yield getattr(route, "path", ""), route


class TemplateIndex:
    """Route object → full template, rebuilt when a route it has not seen turns up."""

    def __init__(self) -> None:
        self._by_route: dict[int, str] = {}

    def template(self, app: Any, route: Any) -> str | None:
        if route is None:
            return None
        found = self._by_route.get(id(route))
        if found is None and app is not None:
            self._by_route = {id(r): path for path, r in iter_routes(getattr(app, "routes", ()))}
            found = self._by_route.get(id(route))
        return found or getattr(route, "path", None)


class MethodIndex:
    """Every method any route serves at a concrete path: the `Allow` header of a 405.

    Starlette lists only the methods of the first route whose path matched, so a path served
    by GET on one route and PATCH on another would advertise `Allow: GET` alone."""

    def __init__(self) -> None:
        self._routes: list[tuple[Pattern[str], frozenset[str]]] = []
        self._app_id: int | None = None

    def allowed(self, app: Any, path: str) -> list[str]:
        if self._app_id != id(app):
            self._routes = [
                (compile_path(template)[0], frozenset(getattr(route, "methods", None) or ()))
                for template, route in iter_routes(getattr(app, "routes", ()))
                if template
            ]
            self._app_id = id(app)
        methods: set[str] = set()
        for regex, route_methods in self._routes:
            if regex.match(path):
                methods |= route_methods
        return sorted(methods)
