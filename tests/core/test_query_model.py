"""Query strings read by one model (app/core/query.py): the same answers, errors and
documentation as FastAPI's separate query parameters."""

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import Field

from app.core.handlers import install as install_handlers
from app.core.query import QueryModel
from app.core.schemas import QueryDate
from app.hazards.models import HazardStatus


class Sample(QueryModel):
    n: int = Field(default=5, ge=1, le=10, description="A number.")
    status: list[HazardStatus] | None = Field(default=None, max_length=2)
    day: QueryDate | None = None
    flag: bool | None = None
    text: str | None = Field(default=None, min_length=1, max_length=3)


def _apps() -> tuple[FastAPI, FastAPI]:
    """The same query, as a model and as FastAPI parameters."""
    model, plain = FastAPI(), FastAPI()
    install_handlers(model)
    install_handlers(plain)

    @model.get("/x", openapi_extra=Sample.openapi())
    def by_model(q: Annotated[Sample, Depends(Sample.parse)]) -> dict[str, Any]:
        return q.model_dump(mode="json")

    @plain.get("/x")
    def by_fastapi(
        n: Annotated[int, Query(ge=1, le=10, description="A number.")] = 5,
        status: Annotated[list[HazardStatus] | None, Query(max_length=2)] = None,
        day: QueryDate | None = None,
        flag: bool | None = None,
        text: Annotated[str | None, Query(min_length=1, max_length=3)] = None,
    ) -> dict[str, Any]:
        return {"n": n, "status": status, "day": day, "flag": flag, "text": text}

    return model, plain


@pytest.mark.parametrize(
    "query",
    [
        "",
        "n=7",
        "n=7&n=8",  # the last of a repeated single value
        "status=reported&status=closed",
        "flag=yes",
        "flag=0",
        "day=2026-11-28",
        "text=abc",
        "unknown=1",  # ignored
        "n=0",
        "n=11",
        "n=x",
        "n=",
        "status=burning",
        "status=reported&status=closed&status=void",
        "day=0001-01-01",
        "day=12",
        "flag=perhaps",
        "text=",
        "text=abcd",
        "n=0&flag=perhaps&status=burning",
    ],
)
def test_same_answer_as_fastapis_parameters(query: str) -> None:
    model, plain = _apps()
    a = TestClient(model).get(f"/x?{query}")
    b = TestClient(plain).get(f"/x?{query}")
    assert a.status_code == b.status_code, (a.text, b.text)
    if a.status_code == 200:
        assert a.json() == b.json()
    else:
        assert a.status_code == 422
        got, expected = a.json(), b.json()
        assert got["code"] == expected["code"] == "validation_failed"
        assert got["errors"] == expected["errors"]
        assert all(e["field"].startswith("query.") for e in got["errors"])


def test_documented_like_fastapis_parameters() -> None:
    model, plain = _apps()
    documented = model.openapi()["paths"]["/x"]["get"]["parameters"]
    assert documented == plain.openapi()["paths"]["/x"]["get"]["parameters"]


def test_the_register_documents_every_parameter_it_reads(client: TestClient) -> None:
    from app.hazards.router import HazardListQuery

    operation = client.app.openapi()["paths"]["/api/v1/hazards"]["get"]  # type: ignore[attr-defined]
    assert [p["name"] for p in operation["parameters"]] == list(HazardListQuery.model_fields)
    assert all(p["in"] == "query" for p in operation["parameters"])


def test_parsing_runs_on_the_event_loop() -> None:
    """A plain-function dependency would be sent to the thread pool on every request (a hop
    for 2 µs of work)."""
    import inspect

    assert inspect.iscoroutinefunction(Sample.parse)
