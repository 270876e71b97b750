"""`hadac serve`: the studies named on the command line, as a REST API on FastAPI.

A request asks a study what `hadac solve` or `hadac pareto` would, in the words of their
flags, and gets the same JSON back; the build is a fixed program, so a what-if is data and
needs no compile (a new `location` compiles once, beside the build). The server opens only
the studies it was started with: a request names a study, never a path. Solves run on a
pool of `workers` threads, each driving its own solver process; requests beyond that wait
in the pool's queue, none refused.

Errors say what to fix: 422 for a body that does not fit the schema (naming the field), 400
for an expression, constraint, location or solver the study refuses (with the located
diagnostics), 404 for an unknown study, 413 for a body over 1 MB, and 502 when the solver
itself fails; the server goes on. An infeasible query is an answer: 200, status
INFEASIBLE, with the explanation.

At `/` the server also serves the what-if page (`hadac/web`): plain HTML, CSS and script
shipped in the package, asking this same API, so it works with no network beyond the
server itself; its content security policy lets it load nothing from anywhere else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

import hadac.solvers as solver_table
from hadac import __version__, runtime
from hadac.api import Study
from hadac.errors import HadacError
from hadac.pareto import axes
from hadac.query import Query

FORMAT_VERSION = 1
MAX_BODY = 1_000_000  # bytes of a request body
DEFAULT_TIME_LIMIT = 10.0  # seconds per solve, when a request gives none
MAX_POINTS = 100  # of a Pareto front
WEB = Path(__file__).resolve().parent / "web"  # the what-if page's files
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"

Text = Annotated[str, Field(min_length=1, max_length=1000)]
SolverName = Literal[solver_table.names()]
Location = Annotated[str, Field(pattern="^[A-Z]{3}$", description="ISO 3166 alpha-3, e.g. FRA")]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Bound(BaseModel):
    """A constraint as its parts: `{"target": "time", "op": "<=", "bound": 12, "unit": "s"}`."""

    model_config = ConfigDict(extra="forbid")
    target: Annotated[str, Field(pattern="^[A-Za-z_][A-Za-z0-9_]*$")]
    op: Literal["<=", ">="]
    bound: Annotated[float, Field(allow_inf_nan=False)]
    unit: Annotated[str, Field(max_length=100)] = ""

    def text(self) -> str:
        """As a spec writes it, for the spec's grammar and unit checker to read: the bound
        exactly, a whole number without a decimal point (`time <= 12 s`)."""
        whole = self.bound.is_integer() and abs(self.bound) < 1e15
        bound = str(int(self.bound)) if whole else repr(self.bound)
        return f"{self.target} {self.op} {bound} {self.unit}".rstrip()


def _constraint_shape(value: object) -> str:
    """An object is a constraint's parts, anything else its text: an error then names the
    problem of the one it was meant as."""
    return "bound" if isinstance(value, dict | Bound) else "text"


def _dropped_shape(value: object) -> str:
    """A number is a constraint's number (1 is the spec's first), anything else its text."""
    return "number" if isinstance(value, int) and not isinstance(value, bool) else "text"


Constraint = Annotated[
    Annotated[Text, Tag("text")] | Annotated[Bound, Tag("bound")],
    Discriminator(_constraint_shape),
]
Dropped = Annotated[
    Annotated[Text, Tag("text")] | Annotated[int, Tag("number")], Discriminator(_dropped_shape)
]
_TAGS = ("text", "bound", "number")


class SolveRequest(BaseModel):
    """`hadac solve`'s flags as fields; every one optional (the spec's own query)."""

    model_config = ConfigDict(extra="forbid")
    minimize: Text | None = None
    maximize: Text | None = None
    constraints: Annotated[list[Constraint], Field(max_length=100)] = []
    drop_constraints: Annotated[list[Dropped], Field(max_length=100)] = []
    location: Location | None = None
    solver: SolverName | None = None
    time_limit: Seconds | None = None
    inputs: Annotated[dict[str, float], Field(max_length=100)] = {}


def _split(value: object) -> object:
    """`"cost,time"`, as `--objectives` takes it, is `["cost", "time"]`."""
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else value


class ParetoRequest(BaseModel):
    """`hadac pareto`'s flags as fields: two objectives, both minimized."""

    model_config = ConfigDict(extra="forbid")
    objectives: Annotated[list[Text], BeforeValidator(_split), Field(min_length=2, max_length=2)]
    points: Annotated[int, Field(ge=2, le=MAX_POINTS)] = 10
    location: Location | None = None
    solver: SolverName | None = None
    time_limit: Seconds | None = None
    inputs: Annotated[dict[str, float], Field(max_length=100)] = {}


class Refusal(Exception):
    """A request the server answers with an error status and a JSON body naming the field."""

    def __init__(self, status: int, field: str | None, message: str, diagnostics=()):
        super().__init__(message)
        self.status, self.field, self.diagnostics = status, field, list(diagnostics)

    @classmethod
    def of(cls, status: int, field: str | None, error: HadacError) -> Refusal:
        """A hadac error as a refusal, blamed on the request field its first diagnostic
        was given in (`constraints[1]`), else on `field`."""
        named = next(
            (str(d.path) for d in error.diagnostics if _request_field(d.path) is not None),
            field,
        )
        message = "\n".join(d.format() for d in error.diagnostics)
        return cls(status, named, message, error.diagnostics)

    def body(self) -> dict:
        diagnostics = [d.to_json() | {"text": d.format()} for d in self.diagnostics]
        return {"detail": str(self), "field": self.field, "diagnostics": diagnostics}


def _request_field(path) -> str | None:
    """The request field a diagnostic's path names (`constraints` for `constraints[1]`),
    or None when it names a file."""
    name = str(path).partition("[")[0] if path is not None else None
    fields = SolveRequest.model_fields.keys() | ParetoRequest.model_fields.keys()
    return name if name in fields else None


def _json(payload: object, status: int = 200) -> Response:
    """JSON as `hadac solve --json` writes it (any value json cannot take, as text)."""
    return Response(json.dumps(payload, default=str), status, media_type="application/json")


T = TypeVar("T")


def _step(status: int, field: str | None, work: Callable[[], T]) -> T:
    """`work()`, its hadac error refused with `status`, blamed on `field` unless it names
    its own."""
    try:
        return work()
    except HadacError as error:
        raise Refusal.of(status, field, error) from None


class _BodyLimit:
    """Refuses a request body over `limit` bytes with 413 before the application reads it,
    whether it says its length or streams in chunks; bodies are buffered (they are small
    JSON queries) and handed on whole."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await self._refuse(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                return await self._refuse(send)
            more = message.get("more_body", False)
        handed = False

        async def replay():
            nonlocal handed
            if handed:
                return await receive()
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        message = f"the request body is over {self.limit} bytes"
        payload = json.dumps({"detail": message, "field": None, "diagnostics": []}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _field(location: tuple) -> str:
    """A pydantic error location as the field it names: `constraints[0].op`."""
    out = ""
    for part in location[1:] if location and location[0] == "body" else location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in _TAGS:  # the union member it was read as
            out += f".{part}" if out else str(part)
    return out or "body"


def _problems(error: RequestValidationError) -> list[dict]:
    """Each problem of a body: the field, and what is wrong with it."""
    out = []
    for e in error.errors():
        if e["type"] == "json_invalid":
            at = e["loc"][-1]
            out.append({"field": "body", "message": f"not JSON (at character {at})"})
        else:
            out.append({"field": _field(e["loc"]), "message": e["msg"]})
    return out or [{"field": "body", "message": "invalid body"}]


def create_app(studies: list[Study], workers: int = 2, max_time_limit: float = 60.0) -> FastAPI:
    """The application serving `studies` by name, at most `workers` solves at once, each
    under its request's time limit (10 s by default, `max_time_limit` at most)."""
    by_name: dict[str, Study] = {}
    for study in studies:
        if study.name in by_name:
            raise HadacError(
                f"two studies are named '{study.name}' ({by_name[study.name].build.directory}"
                f" and {study.build.directory}); a server serves each name once"
            )
        by_name[study.name] = study
    described = {name: study.describe() for name, study in by_name.items()}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hadac-solve")
    default_limit = min(DEFAULT_TIME_LIMIT, max_time_limit)

    app = FastAPI(
        title="hadac",
        version=__version__,
        description="Which hardware, which algorithm, which hyperparameters: the studies of"
        " this server, asked as `hadac solve` and `hadac pareto` would be.",
    )
    app.add_middleware(_BodyLimit, limit=MAX_BODY)
    app.router.add_event_handler("shutdown", lambda: pool.shutdown(wait=False))

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Response:
        return _json(error.body(), error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = _problems(error)
        first = problems[0]
        detail = f"{first['field']}: {first['message']}"
        return _json({"detail": detail, "field": first["field"], "errors": problems}, 422)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        """A bug in hadac: said plainly, as `hadac` says it, and logged with its traceback."""
        message = f"hadac: internal error: {type(error).__name__}: {error}"
        return _json({"detail": message, "field": None, "diagnostics": []}, 500)

    def study_named(name: str) -> Study:
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise Refusal(404, "name", f"no study '{name}' here; this server has: {known}")
        return by_name[name]

    def time_limit(seconds: float | None) -> float:
        if seconds is None:
            return default_limit
        if seconds > max_time_limit:
            raise Refusal(
                422,
                "time_limit",
                f"time_limit {seconds!r} s is over this server's maximum of {max_time_limit!r} s",
            )
        return seconds

    def solver_for(study: Study, name: str | None) -> str:
        chosen = _step(400, "solver", lambda: study.solver(name))
        _step(400, "solver", lambda: runtime.solver_info(chosen))  # is it on this machine?
        return chosen

    async def in_pool(work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    @app.get("/api/studies")
    def list_studies() -> Response:
        """The studies this server answers for: name, spec, model shape, hardware, algorithms."""
        rows = [dataclasses.asdict(d.summary()) for d in described.values()]
        return _json({"format_version": FORMAT_VERSION, "studies": rows})

    @app.get("/api/studies/{name}")
    def describe_study(name: str) -> Response:
        """Params with domains, targets with units, lets, the spec's objective and
        constraints, hardware with attributes and locations, the solvers that fit."""
        study_named(name)
        return _json({"format_version": FORMAT_VERSION, **described[name].to_json()})

    @app.post("/api/studies/{name}/solve")
    async def solve(name: str, request: SolveRequest) -> Response:
        """What `hadac solve --json` answers for the same flags."""
        study = study_named(name)
        seconds = time_limit(request.time_limit)

        def work() -> dict:
            here = _step(400, "location", lambda: study.at(request.location))
            query: Query = _step(
                400,
                "constraints",
                lambda: here.query(
                    request.minimize,
                    request.maximize,
                    [c.text() if isinstance(c, Bound) else c for c in request.constraints],
                    [str(d) for d in request.drop_constraints],
                    inputs=request.inputs,
                ),
            )
            chosen = solver_for(here, request.solver)
            answer = _step(502, "solver", lambda: here.answer(query, chosen, seconds))
            return answer.to_json()

        return _json(await in_pool(work))

    @app.post("/api/studies/{name}/pareto")
    async def pareto(name: str, request: ParetoRequest) -> Response:
        """What `hadac pareto --json` answers for the same flags, without its files."""
        study = study_named(name)
        seconds = time_limit(request.time_limit)

        def work() -> dict:
            here = _step(400, "location", lambda: study.at(request.location))
            _step(400, "objectives", lambda: axes(here.manifest, request.objectives))
            _step(400, "inputs", lambda: here.query(inputs=request.inputs))
            chosen = solver_for(here, request.solver)
            front = _step(
                502,
                "solver",
                lambda: here.pareto(
                    request.objectives, request.points, chosen, seconds, inputs=request.inputs
                ),
            )
            return {"format_version": FORMAT_VERSION, **front.to_json()}

        return _json(await in_pool(work))

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        """The what-if page: a study's bounds as sliders, its answer and its Pareto front."""
        return FileResponse(WEB / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
