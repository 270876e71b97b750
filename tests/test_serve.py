"""`hadac serve`: a real uvicorn server on a free local port, asked over HTTP with httpx.

The server is started once for the module, as a user starts it, with a spec (compiled at
start-up) and three build directories; every endpoint and every class of error is asked
for, and solves are compared with `hadac solve --json` for the same flags.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import REPO, descendants
from servers import Server, serving, without_timings

from hadac.cli import main
from hadac.compiler import compile_spec

SOLVER = "gecode"
pytestmark = pytest.mark.requires_solver(SOLVER)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """tiny.hada served as a spec (compiled into the server's working folder), carbon,
    structure (a MIP model) and usage-cost as build directories."""
    folder = tmp_path_factory.mktemp("serve")
    builds = [
        compile_spec(REPO / "specs" / f"{name}.hada", folder / name).directory
        for name in ("carbon", "structure", "usage-cost")
    ]
    targets = [REPO / "specs" / "tiny.hada", *builds]
    with serving(folder, targets, "--workers", "2", "--max-time-limit", "30") as running:
        yield running


def cli_answer(build: Path, *flags: str) -> dict:
    result = CliRunner().invoke(main, ["solve", str(build), *flags, "--json"])
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


def test_the_studies_are_listed_and_described(server):
    listed = server.client.get("/api/studies").json()
    assert [s["name"] for s in listed["studies"]] == ["tiny", "carbon", "structure", "usage_cost"]
    assert listed["studies"][0] == {
        "name": "tiny",
        "file": "tiny.hada",
        "shape": "enumerated",
        "hardware": ["laptop", "server", "cloud"],
        "algorithms": ["anticipate", "contingency"],
    }
    tiny = server.client.get("/api/studies/tiny").json()
    assert (server.folder / tiny["build"] / "manifest.json").is_file()  # compiled at start-up
    assert tiny["algorithms"][1]["params"][0]["values"] == [1, 2, 4, 8, 16, 32]
    assert [t["unit"] for t in tiny["targets"]] == ["s", "kEUR", "MB", "kg"]
    assert tiny["constraints"][0]["text"] == "time <= 30 s"
    assert [s["name"] for s in tiny["solvers"]] == ["cbc", "highs", "gecode", "chuffed"]
    structure = server.client.get("/api/studies/structure").json()
    assert structure["shape"] == "mip" and [s["name"] for s in structure["solvers"]] == [
        "cbc",
        "highs",
    ]
    carbon = server.client.get("/api/studies/carbon").json()
    assert [x["name"] for x in carbon["lets"]] == ["emissions_here", "usage_cost"]
    assert server.client.get("/openapi.json").json()["paths"].keys() >= {
        "/api/studies",
        "/api/studies/{name}/solve",
        "/api/studies/{name}/pareto",
    }
    assert server.client.get("/docs").status_code == 200


QUERIES = [
    ({}, []),
    (
        {"constraints": ["time <= 12 s"], "maximize": "cost"},
        ["--constraint", "time <= 12 s", "--maximize", "cost"],
    ),
    (
        {"constraints": [{"target": "memory", "op": "<=", "bound": 90, "unit": "MB"}]},
        ["--constraint", "memory <= 90 MB"],
    ),
    (
        {"drop_constraints": [1, "cost <= 310 kEUR"], "minimize": "time"},
        ["--drop-constraint", "1", "--drop-constraint", "cost <= 310 kEUR", "--minimize", "time"],
    ),
    ({"constraints": ["time <= 1 s"]}, ["--constraint", "time <= 1 s"]),  # infeasible
]


@pytest.mark.parametrize(("body", "flags"), QUERIES)
def test_a_solve_answers_as_the_cli_does(server, body, flags):
    response = server.solve("tiny", {**body, "solver": SOLVER})
    assert response.status_code == 200, response.text
    expected = cli_answer(server.folder / "build" / "tiny", *flags, "--solver", SOLVER)
    assert without_timings(response.json()) == without_timings(expected)


def test_an_infeasible_query_is_an_answer_with_its_explanation(server):
    response = server.solve("tiny", {"constraints": ["time <= 1 s"], "solver": SOLVER})
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "INFEASIBLE" and answer["choice"] is None
    assert answer["explanations"][0].startswith("time <= 1 s cannot hold: the least time")


def test_a_location_compiles_once_beside_the_spec_build(server):
    body = {"location": "FRA", "minimize": "emissions", "solver": SOLVER}
    answer = server.solve("tiny", body).json()
    assert answer["location"] == {"hardware": "laptop", "code": "FRA", "chosen": False}
    assert (server.folder / "build" / "tiny@FRA" / "manifest.json").is_file()
    refused = server.solve("carbon", {"location": "FRA"})
    assert refused.status_code == 400 and refused.json()["field"] == "location"
    assert "needs the spec" in refused.json()["detail"]


def test_a_pareto_front_answers_as_the_cli_does(server):
    body = {"objectives": "cost,time", "points": 5, "solver": SOLVER}
    response = server.client.post("/api/studies/tiny/pareto", json=body)
    assert response.status_code == 200, response.text
    result = CliRunner().invoke(
        main,
        ["pareto", str(REPO / "specs" / "tiny.hada"), "--objectives", "cost,time"]
        + ["--points", "5", "--solver", SOLVER, "-o", str(server.folder / "front"), "--json"],
    )
    expected = json.loads(result.stdout)
    got = response.json()
    assert got["points"] == expected["points"] and len(got["points"]) == 5
    unknown = server.client.post("/api/studies/tiny/pareto", json={"objectives": ["price", "x"]})
    assert unknown.status_code == 400 and unknown.json()["field"] == "objectives"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"constraints": [{"target": "time", "op": "<", "bound": 1}]}, "constraints[0].op", "'<='"),
        ({"constraints": [5]}, "constraints[0]", "valid string"),
        ({"minimize": 3}, "minimize", "valid string"),
        ({"bogus": 1}, "bogus", "Extra inputs"),
        ({"solver": "cplex"}, "solver", "'cbc'"),
        ({"location": "france"}, "location", "pattern"),
        ({"time_limit": -1}, "time_limit", "greater than 0"),
        ({"time_limit": 31}, "time_limit", "over this server's maximum of 30.0 s"),
        ([], "body", "valid dictionary"),
    ],
)
def test_a_body_that_does_not_fit_is_a_422_naming_the_field(server, body, field, message):
    response = server.solve("tiny", body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and message in response.json()["detail"]


def test_a_body_that_is_no_json_is_a_422(server):
    response = server.client.post(
        "/api/studies/tiny/solve", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["field"] == "body"


@pytest.mark.parametrize(
    ("body", "field", "located"),
    [
        ({"constraints": ["time <= 3 kg"]}, "constraints[0]", "constraints[0]:1:6"),
        ({"constraints": ["time <= 30 s", "tme <= 1 s"]}, "constraints[1]", "constraints[1]:1:1"),
        ({"maximize": "time * cost"}, "maximize", "maximize:1:1"),
        ({"drop_constraints": [9]}, "drop_constraints[0]", "drop_constraints[0]"),
        ({"minimize": "time", "maximize": "cost"}, "maximize", "maximize"),
    ],
)
def test_a_refused_expression_is_a_400_with_its_located_diagnostic(server, body, field, located):
    response = server.solve("tiny", body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["field"] == field
    assert payload["detail"].startswith(f"{located}: error: ")
    (diagnostic,) = payload["diagnostics"]
    assert diagnostic["file"] == field and diagnostic["text"] == payload["detail"]


def test_a_solver_that_does_not_take_the_model_is_a_400(server):
    response = server.solve("structure", {"solver": "gecode"})
    assert response.status_code == 400 and response.json()["field"] == "solver"
    assert "gecode is a CP solver" in response.json()["detail"]


def test_an_unknown_study_is_a_404(server):
    for response in (
        server.client.get("/api/studies/nope"),
        server.solve("nope", {}),
        server.client.post("/api/studies/../etc/solve", json={}),
    ):
        assert response.status_code == 404, response.text


def test_a_body_over_a_megabyte_is_refused_with_413(server):
    big = json.dumps({"minimize": "x" * 1_000_001}).encode()
    headers = {"content-type": "application/json"}
    said = server.client.post("/api/studies/tiny/solve", content=big, headers=headers)
    assert said.status_code == 413
    chunks = (big[i : i + 65536] for i in range(0, len(big), 65536))  # no length given
    streamed = server.client.post("/api/studies/tiny/solve", content=chunks, headers=headers)
    assert streamed.status_code == 413
    assert server.solve("tiny", {"solver": SOLVER}).status_code == 200  # the server goes on


def test_a_failing_solver_is_a_502_and_the_server_goes_on(server):
    model = server.folder / "usage-cost" / "model.mzn"
    kept = model.read_bytes()
    try:
        model.write_text("this is not MiniZinc\n")
        failed = server.solve("usage_cost", {"solver": "cbc"})
    finally:
        model.write_bytes(kept)
    assert failed.status_code == 502, failed.text
    assert failed.json()["field"] == "solver" and "MiniZinc (cbc" in failed.json()["detail"]
    again = server.solve("usage_cost", {"solver": "cbc"})
    assert again.status_code == 200 and again.json()["status"] == "OPTIMAL"


def running_solvers(pid: int) -> int:
    """How many MiniZinc or FlatZinc solver processes `pid` has started that run now."""
    children = descendants(pid)
    if not children:
        return 0
    listed = ["ps", "-o", "comm=", "-p", ",".join(map(str, children))]
    running = subprocess.run(listed, capture_output=True, text=True).stdout.split()
    return sum(name in ("minizinc", "fzn-gecode") for name in running)


def test_solves_beyond_the_workers_wait_and_none_is_lost(server):
    """Twelve requests at once on 2 workers: every one answered, the same as alone, and
    never more than 2 solver processes running at a time. COIN-BC solves through MiniZinc,
    long enough (about 0.1 s) for the processes to be seen."""
    bodies = [{"constraints": [f"time <= {10 + i} s"], "solver": "cbc"} for i in range(12)]
    alone = [without_timings(server.solve("tiny", b).json()) for b in bodies[:2]]
    most, done = 0, threading.Event()

    def watch() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, running_solvers(server.process.pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    results: list[httpx.Response | None] = [None] * len(bodies)

    def ask(i: int) -> None:
        with httpx.Client(base_url=str(server.client.base_url), timeout=120.0) as client:
            results[i] = client.post("/api/studies/tiny/solve", json=bodies[i])

    askers = [threading.Thread(target=ask, args=(i,)) for i in range(len(bodies))]
    for t in askers:
        t.start()
    for t in askers:
        t.join()
    done.set()
    watcher.join()
    assert all(r is not None and r.status_code == 200 for r in results)
    assert [without_timings(r.json()) for r in results[:2]] == alone
    assert 1 <= most <= 2


def test_the_server_listens_on_the_loopback_address_only(server):
    port = str(server.client.base_url).rsplit(":", 1)[1].strip("/")
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True)
    ours = [
        line.split()[3]
        for line in listening.stdout.splitlines()
        if line.split()[3].endswith(f":{port}")
    ]
    assert ours == [f"127.0.0.1:{port}"]


def test_a_load_of_concurrent_solves_loses_nothing_and_answers_as_the_cli(server):
    """The load test, small (tests/benchmarks/test_bench_serve.py is the full one): 96
    solve requests from 16 clients at once, with random bounds, on 2 workers; every one a
    200 equal to `hadac solve --json` for the same flags."""
    rng = random.Random(96)
    asked = [
        (
            rng.choice(["minimize", "maximize"]),
            rng.choice(["time", "cost", "emissions"]),
            f"time <= {rng.uniform(8, 30):.2f} s",
        )
        for _ in range(24)
    ]
    bodies = [
        {sense: target, "constraints": [bound], "solver": SOLVER} for sense, target, bound in asked
    ]
    build = server.folder / server.client.get("/api/studies/tiny").json()["build"]
    expected = [
        without_timings(
            cli_answer(build, f"--{sense}", target, "--constraint", bound, "--solver", SOLVER)
        )
        for sense, target, bound in asked
    ]
    picks = [rng.randrange(len(bodies)) for _ in range(96)]
    todo = list(enumerate(picks))
    lock = threading.Lock()
    answered: dict[int, tuple[int, dict]] = {}

    def client() -> None:
        with httpx.Client(base_url=str(server.client.base_url), timeout=120.0) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    index, pick = todo.pop()
                response = http.post("/api/studies/tiny/solve", json=bodies[pick])
                with lock:
                    answered[index] = (response.status_code, response.json())

    clients = [threading.Thread(target=client) for _ in range(16)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    assert sorted(answered) == list(range(len(picks)))  # none lost
    for index, pick in enumerate(picks):
        status, payload = answered[index]
        assert status == 200 and without_timings(payload) == expected[pick], bodies[pick]
