"""The batching queue in front of a policy: merging, splitting, errors, seeding, and
determinism of searches whatever the number in flight (symbolic policy and a tiny hf model)."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import policy_fixtures as pf
import pytest

from prover.eval.job import EvalOptions
from prover.eval.run import run_eval
from prover.policy.batching import BatchingPolicy, attempt_seed, state_seed
from search.best_first import SearchConfig
from search.protocols import Candidate, State

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
SMALL = ("gauss_sum", "n_n1_even", "abs_nonneg", "sum_odd", "fib_nonneg", "max_props",
         "pow2_pos", "quant_hyp")
#: theorems whose searches end without a tactic timeout (which would make two runs differ)
STEADY = ("n_n1_even", "abs_nonneg", "max_props", "quant_hyp", "sum_mono", "abs_triangle",
          "sq_sum_ge_2xy", "amgm2")


class Recorder:
    """An in-process stand-in model: candidate texts name the state; records batch sizes."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.fail = fail
        self.lock = threading.Lock()

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        with self.lock:
            self.batches.append(len(states))
        if self.fail:
            raise RuntimeError("model exploded")
        return [[Candidate(f"t{i}:{s.text}") for i in range(k)] for s in states]


def _run_threads(batcher: BatchingPolicy, n: int) -> list[list[list[Candidate]]]:
    out: list = [None] * n
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        with batcher.session(i) as policy:
            barrier.wait()
            try:
                out[i] = policy.propose([State(f"s{i}a"), State(f"s{i}b")], 2)
            except RuntimeError as exc:
                out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_calls_merge_into_few_model_calls_and_split_back() -> None:
    inner = Recorder()
    with BatchingPolicy(inner, window_s=0.5, max_batch=64) as batcher:
        out = _run_threads(batcher, 8)
    assert sum(inner.batches) == 16
    assert len(inner.batches) < 8, inner.batches  # merged (all 8 wait: flushed at once)
    for i, props in enumerate(out):
        assert [c.tactic for c in props[0]] == [f"t0:s{i}a", f"t1:s{i}a"]
        assert [c.tactic for c in props[1]] == [f"t0:s{i}b", f"t1:s{i}b"]
    stats = batcher.stats.to_dict()
    assert stats["states"] == 16 and stats["mean_batch"] > 2


def test_max_batch_caps_a_merged_call() -> None:
    inner = Recorder()
    with BatchingPolicy(inner, window_s=0.5, max_batch=4) as batcher:
        _run_threads(batcher, 8)
    assert max(inner.batches) <= 4 and sum(inner.batches) == 16


def test_a_model_error_reaches_every_caller_of_the_batch() -> None:
    with BatchingPolicy(Recorder(fail=True), window_s=0.2) as batcher:
        out = _run_threads(batcher, 4)
    assert all(isinstance(o, RuntimeError) and "exploded" in str(o) for o in out)


def test_seeds_depend_on_search_and_state_only() -> None:
    assert state_seed(1, "x", 0) == state_seed(1, "x", 0)
    assert len({state_seed(1, "x", 0), state_seed(2, "x", 0), state_seed(1, "y", 0),
                state_seed(1, "x", 1)}) == 4
    assert attempt_seed(0, "thm", 0) != attempt_seed(0, "thm", 1)
    assert 0 <= attempt_seed(7, "thm", 3) < 2**31


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("transformers", "the hf tests need transformers")
    return pf.build_tiny_llama(tmp_path_factory.mktemp("llama") / "m")


def test_hf_row_sampling_does_not_depend_on_the_batch(tiny_llama: Path) -> None:
    from prover.policy.hf import HFPolicy

    policy = HFPolicy(str(tiny_llama), max_tokens=10)
    a, b, c = State("(>= n 0) ⊢ (= (f n) n)"), State("x"), State("a longer state " * 5)
    alone = policy.propose_seeded([a], 6, [11])
    mixed = policy.propose_seeded([b, a, c], 6, [3, 11, 4])
    assert [x.tactic for x in alone[0]] == [x.tactic for x in mixed[1]]
    assert [x.logprob for x in alone[0]] == pytest.approx([x.logprob for x in mixed[1]],
                                                          abs=1e-4)
    other_seed = policy.propose_seeded([a], 6, [12])
    assert [x.tactic for x in other_seed[0]] != [x.tactic for x in alone[0]]


def _small_bench(tmp: Path, ids: Sequence[str] = SMALL) -> Path:
    rows = [line for line in DATA.read_text().splitlines()
            if line.strip() and json.loads(line)["id"] in ids]
    path = tmp / "bench.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _attempt_view(out: Path) -> dict[str, tuple]:
    """Per attempt key: verdict, proof and every edge's (src, tactic, outcome) in order."""
    view = {}
    for line in (out / "attempts.jsonl").read_text().splitlines():
        row = json.loads(line)
        view[row["key"]] = (row.get("verdict"), tuple(row.get("proof") or ()), row["seed"],
                            row["counts"]["expansions"])
    return view


def _graphs(out: Path) -> dict[str, object]:
    """Per attempt key: its search graph from the store."""
    from prover.records.store import Store

    run_id = json.loads((out / "summary.json").read_text())["run_id"]
    with Store(out / "eval.sqlite") as store:
        keys = [k for k, _ in store.item_results(run_id)]
        return {k: store.load_graph(run_id, k) for k in keys}


def _edges(graph: object) -> list[tuple[str, str, str]]:
    return sorted((str(a), str(d.get("tactic")), str(d.get("outcome")))
                  for a, _, d in graph.edges(data=True))  # type: ignore[attr-defined]


def _proposals(graph: object) -> dict[str, list[str]]:
    """The tactics tried from each node (what the policy proposed for that state)."""
    out: dict[str, list[str]] = {}
    for a, _, d in graph.edges(data=True):  # type: ignore[attr-defined]
        if d.get("tactic") is not None:
            out.setdefault(str(a), []).append(str(d["tactic"]))
    return {k: sorted(v) for k, v in out.items()}


def assert_same_searches(one: Path, many: Path) -> None:
    """Attempts that neither hit a wall-clock budget (a tactic timeout or the search's
    deadline: the one thing the load of K searches may change) have identical graphs: the
    same tactics tried from the same states with the same outcomes. (A graph keeps one edge per
    (state, next state) pair, so with timeouts the tactic lists are not comparable.)"""
    a, b = _graphs(one), _graphs(many)
    assert a.keys() == b.keys()
    stops = {**_stops(one), **{k: v for k, v in _stops(many).items() if v == "wall_time"}}
    compared = 0
    for key in a:
        ea, eb = _edges(a[key]), _edges(b[key])
        if stops[key] == "wall_time" or any(e[2] == "timeout" for e in ea + eb):
            continue
        assert _proposals(a[key]) == _proposals(b[key]), key
        assert ea == eb, key
        compared += 1
    assert compared >= 2, "too many searches hit a wall-clock budget to compare"


def _stops(out: Path) -> dict[str, str]:
    rows = [json.loads(x) for x in (out / "attempts.jsonl").read_text().splitlines()]
    return {r["key"]: r.get("stop_reason") for r in rows}


def test_hf_searches_are_the_same_whatever_k(tiny_llama: Path, tmp_path: Path) -> None:
    bench = _small_bench(tmp_path, SMALL[:4])
    search = SearchConfig(max_expansions=2, batch_size=2, num_candidates=4,
                          wall_timeout_s=300, tactic_timeout_s=3)
    for k in (1, 8):
        out = tmp_path / f"k{k}"
        run_eval(bench, out, EvalOptions(policy=f"hf:{tiny_llama}", search=search, attempts=2,
                                         concurrency=k, max_new_tokens=8, progress=False,
                                         window_s=0.5))
        summary = json.loads((out / "summary.json").read_text())
        if k == 8:
            assert summary["batching"]["max_batch_seen"] >= 2  # calls of searches merged
    assert_same_searches(tmp_path / "k1", tmp_path / "k8")
    applied = sum(len(_edges(g)) for g in _graphs(tmp_path / "k1").values())
    assert applied >= 8  # sampled tactics were applied


@pytest.mark.slow
def test_symbolic_searches_are_the_same_whatever_k_even_in_a_gc_storm(tmp_path: Path) -> None:
    """8 searches at once, each in its own thread and Z3 context, while another thread forces
    garbage collection (z3py objects freed off their thread): the same searches as one at a
    time. Theorems whose tactics take milliseconds, under a generous tactic timeout, so every
    search is compared (a timeout is the one thing the load of K searches may change)."""
    bench = _small_bench(tmp_path, STEADY)
    search = SearchConfig(max_expansions=6, wall_timeout_s=120, tactic_timeout_s=10)
    stop = threading.Event()

    def storm() -> None:
        while not stop.is_set():
            gc.collect()
            stop.wait(0.005)

    serial = tmp_path / "serial"
    run_eval(bench, serial, EvalOptions(search=search, attempts=1, concurrency=1,
                                        progress=False))
    thread = threading.Thread(target=storm, daemon=True)
    thread.start()
    try:
        many = tmp_path / "many"
        run_eval(bench, many, EvalOptions(search=search, attempts=1, concurrency=8,
                                          progress=False))
    finally:
        stop.set()
        thread.join()
    assert json.loads((many / "summary.json").read_text())["batching"]["merged"] is False
    assert_same_searches(serial, many)
    s1, s8 = _stops(serial), _stops(many)
    g1, g8 = _graphs(serial), _graphs(many)
    steady = {k for k in s1 if "wall_time" not in (s1[k], s8[k])
              and not any(e[2] == "timeout" for e in _edges(g1[k]) + _edges(g8[k]))}
    one, other = _attempt_view(serial), _attempt_view(many)
    assert len(steady) >= 4 and sum(one[k][0] == "verified" for k in steady) >= 4
    assert all(one[k] == other[k] for k in steady)


def test_openai_requests_of_k_searches_go_out_concurrently_with_their_own_seeds() -> None:
    """Against an OpenAI-compatible server (a stand-in on 127.0.0.1) nothing is merged: the K
    searches' requests are in flight together, each prompt seeded by (search seed, prompt)."""
    import http.server
    import time

    from prover.policy.openai_client import OpenAIPolicy
    from prover.policy.prompts import request_seed

    seen: list[dict] = []
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                seen.append(body)
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.3)
            with lock:
                state["now"] -= 1
            reply = {"choices": [{"text": f"tac{body['seed'] % 97}",
                                  "logprobs": {"token_logprobs": [-0.5]}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        policy = OpenAIPolicy(url, "m", retries=0, timeout_s=10)
        with BatchingPolicy(policy, window_s=0.5) as batcher:
            out = _run_threads(batcher, 4)
    finally:
        server.shutdown()
        server.server_close()
    assert state["peak"] >= 4  # 4 searches x 2 states, all in flight at once
    assert batcher.stats.calls == 4  # one call per search, none merged
    by_prompt = {b["prompt"]: b["seed"] for b in seen}
    for i, props in enumerate(out):
        for text, cands in ((f"s{i}a", props[0]), (f"s{i}b", props[1])):
            prompt = policy.template.render(text)
            assert by_prompt[prompt] == request_seed(i, prompt)
            assert [c.tactic for c in cands] == [f"tac{request_seed(i, prompt) % 97}"]


# --------------------------------------------------------------------------- prove at scale
QUICK = ("gauss_sum", "n_n1_even", "abs_nonneg", "max_props")


def _prove_view(results: list[dict]) -> list[tuple]:
    return [(r["id"], r["status"], r["verdict"], tuple(r.get("proof") or ()),
             r["counts"]["expansions"], r["counts"]["env_calls"]) for r in results]


@pytest.mark.slow
def test_prove_concurrency_gives_the_same_results_and_run_as_one_at_a_time(
        tmp_path: Path) -> None:
    from proofgraph.prove_job import ProveOptions, ScaleOptions, run_prove

    bench = _small_bench(tmp_path, QUICK)
    search = SearchConfig(max_expansions=12, wall_timeout_s=120, tactic_timeout_s=3)
    runs = {}
    for k in (1, 4):
        opts = ProveOptions(search=search, out=tmp_path / f"k{k}.jsonl", progress=False)
        runs[k] = run_prove(bench, opts, ScaleOptions(concurrency=k))
    (s1, r1), (s4, r4) = runs[1], runs[4]
    assert s1["run_id"] == s4["run_id"]  # K is not a setting of the run
    assert s4["concurrency"] == 4 and s1["proved"] == s4["proved"] >= 3
    steady = [i for i, (a, b) in enumerate(zip(r1, r4, strict=True))
              if "wall_time" not in (a["stop_reason"], b["stop_reason"])]
    assert len(steady) >= 3
    assert [_prove_view(r1)[i] for i in steady] == [_prove_view(r4)[i] for i in steady]


@pytest.mark.slow
def test_prove_on_ray_with_two_workers(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from proofgraph.cli import main

    bench = _small_bench(tmp_path, QUICK[1:])
    out = tmp_path / "ray.jsonl"
    code = main(["prove", str(bench), "--ray", "--workers", "2", "--concurrency", "2",
                 "--max-expansions", "6", "--tactic-timeout", "3", "--out", str(out),
                 "--json", "--no-progress"])
    assert code == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == list(QUICK[1:])  # committed in input order
    assert all(r["verdict"] == "verified" for r in rows)
