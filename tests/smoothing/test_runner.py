"""Certifying a test set: per-image seeds, resume after a kill, bad input, and the Ray backend."""
from __future__ import annotations

import pytest
import torch

from robustcore.data import load_digits
from robustcore.nets import DigitsCNN
from robustcore.smoothing import Smooth
from robustcore.smoothing.metrics import certified_accuracy_table
from robustcore.smoothing.runner import (
    RUN_KIND,
    CertifyJob,
    certify_image,
    image_seed,
    run_certification,
    run_state,
    select_indices,
)
from robustcore.store import ResultsStore

JOB = CertifyJob(n0=16, n=300, batch_size=128, skip=45, sigma=0.25, seed=7)


@pytest.fixture(scope="module")
def model_and_data():
    # an untrained, seeded CNN: enough for bookkeeping properties, and no training time
    torch.manual_seed(0)
    model = DigitsCNN().eval()
    return model, load_digits("test")


def _comparable(df):
    out = df.drop(columns=["time_s"]).copy()
    out["extra"] = [repr(sorted(e.items())) for e in out["extra"]]
    return out.reset_index(drop=True)


def test_image_seeds_and_selection():
    seeds = [image_seed(3, i) for i in range(200)]
    assert len(set(seeds)) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert image_seed(3, 5) == image_seed(3, 5) != image_seed(4, 5)
    assert select_indices(10, 3) == [0, 3, 6, 9]
    assert select_indices(10, 3, max_images=2) == [0, 3]
    with pytest.raises(ValueError):
        select_indices(10, 1, max_images=0)


def test_row_is_the_certificate_of_the_image_seed(model_and_data):
    model, (X, y) = model_and_data
    sm = Smooth(model, 10, JOB.sigma)
    row = certify_image(sm, X[90], int(y[90]), 90, JOB)
    cert = sm.certify(X[90], JOB.n0, JOB.n, JOB.alpha, JOB.batch_size, seed=image_seed(JOB.seed, 90))
    assert row["prediction"] == cert.label and row["radius"] == cert.radius
    assert row["extra"]["counts"] == cert.counts.tolist() and row["extra"]["seed"] == cert.seed
    assert row["correct"] == (cert.label == int(y[90]))


def test_resume_after_interruption_gives_the_uninterrupted_table(model_and_data, tmp_path):
    model, data = model_and_data
    full_store = ResultsStore(tmp_path / "full.sqlite")
    full = run_certification(JOB, full_store, model=model, data=data)
    assert full.complete and full.done == full.total == 10

    store = ResultsStore(tmp_path / "killed.sqlite")

    def kill_after_four(done, total, certified):
        if done == 4:
            raise KeyboardInterrupt  # what Ctrl-C or a kill does between two images

    with pytest.raises(KeyboardInterrupt):
        run_certification(JOB, store, model=model, data=data, progress=kill_after_four)
    run_id = store.find_run(RUN_KIND, store.runs().iloc[0]["config"])
    assert len(store.results(run_id)) == 4  # every finished image was kept
    assert store.run(run_id)["status"] == "interrupted"

    seen = []
    resumed = run_certification(JOB, store, model=model, data=data, progress=lambda d, t, c: seen.append(d))
    assert resumed.run_id == run_id and resumed.new == 6 and resumed.complete
    assert seen[0] == 4  # the second session starts where the first stopped
    a, b = full_store.results(full.run_id), store.results(run_id)
    assert _comparable(a).equals(_comparable(b))
    assert certified_accuracy_table(a).equals(certified_accuracy_table(b))
    # a third start of the same configuration has nothing left to do
    again = run_certification(JOB, store, model=model, data=data)
    assert again.new == 0 and again.done == 10


def test_max_images_then_extend(model_and_data, tmp_path):
    model, data = model_and_data
    store = ResultsStore(tmp_path / "s.sqlite")
    part = run_certification(JOB, store, model=model, data=data, max_images=3)
    # all 3 requested images are there: the session is complete, measured against the request
    assert part.done == part.total == 3 and part.complete
    assert store.run(part.run_id)["status"] == "done"
    state = run_state(store, part.run_id)
    assert state["status"] == "done" and state["text"] == "done: 3 of 3 requested images"
    rest = run_certification(JOB, store, model=model, data=data)
    assert rest.run_id == part.run_id and rest.new == 7 and rest.complete
    assert store.run(rest.run_id)["status"] == "done"
    assert run_state(store, rest.run_id)["text"] == "done: 10 of 10 requested images"


def test_interrupted_session_records_requested_and_done(model_and_data, tmp_path):
    model, data = model_and_data
    store = ResultsStore(tmp_path / "s.sqlite")

    def stop_after_two(done, total, certified):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_certification(JOB, store, model=model, data=data, max_images=6, progress=stop_after_two)
    run_id = int(store.runs().iloc[0]["id"])
    state = run_state(store, run_id)
    assert state["status"] == "interrupted" and state["requested"] == 6 and state["done"] == 2
    assert state["text"].startswith("interrupted: 2 of 6 requested images done")
    sessions = store.metrics(run_id)
    assert list(sessions["name"]) == ["session", "session"]  # one at the start, one at the end
    assert [e["status"] for e in sessions["extra"]] == ["running", "interrupted"]


def test_fast_path_rows_record_their_forward_and_match_eager_votes(model_and_data, tmp_path):
    model, data = model_and_data
    eager = run_certification(JOB, ResultsStore(tmp_path / "a.sqlite"), model=model, data=data, max_images=3)
    store = ResultsStore(tmp_path / "b.sqlite")
    fast = run_certification(JOB, store, model=model, data=data, max_images=3, fast="auto")
    a = ResultsStore(tmp_path / "a.sqlite").results(eager.run_id)
    b = store.results(fast.run_id)
    assert [e["forward"] for e in a["extra"]] == ["eager"] * 3
    assert [e["forward"] for e in b["extra"]] == ["channels_last"] * 3  # a small job: no compilation
    # channels-last reorders float sums; on this model and noise the votes agree
    assert [e["counts"] for e in a["extra"]] == [e["counts"] for e in b["extra"]]
    assert model.first.weight.is_contiguous()  # the caller's model was not converted in place


@pytest.mark.parametrize(
    "job,match",
    [
        (CertifyJob(n0=100, n=10), "at least n0"),
        (CertifyJob(alpha=1.5), "alpha"),
        (CertifyJob(sigma=0.0), "sigma"),
        (CertifyJob(model="resnet"), "Unknown model"),
        (CertifyJob(dataset="imagenet"), "Unknown dataset"),
        (CertifyJob(skip=0), "skip"),
        (CertifyJob(n=10**12), "at most"),
        (CertifyJob(n=10.5), "n must"),
        (CertifyJob(sigma=float("nan")), "sigma"),
        (CertifyJob(batch_size=10**7), "batch_size"),
        (CertifyJob(device="nonsense"), "device"),
        (CertifyJob(seed=-1), "seed"),
        (CertifyJob(dataset="mnist-5k"), "checkpoint"),
        (CertifyJob(checkpoint="/nonexistent/x.pt"), "no model file"),
    ],
)
def test_bad_jobs_raise_before_anything_is_stored(job, match, tmp_path, model_and_data):
    model, data = model_and_data
    store = ResultsStore(tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match=match):
        run_certification(job, store, model=model, data=data)
    assert store.runs().empty


def test_model_that_does_not_fit_the_data_raises_before_a_run_starts(tmp_path, model_and_data):
    _, data = model_and_data
    store = ResultsStore(tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match="not to 10 logits"):
        run_certification(JOB, store, model=torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3)).eval(),
                          model_info=None, data=data)
    with pytest.raises(ValueError):
        run_certification(JOB, store, model=DigitsCNN().eval(), data=(data[0][:, :, :6, :6].contiguous(), data[1]))
    assert store.runs().empty


@pytest.mark.slow
def test_ray_backend_matches_local_and_survives_a_dead_worker(model_and_data, tmp_path):
    ray = pytest.importorskip("ray")
    model, data = model_and_data
    job = CertifyJob(n0=16, n=200, batch_size=100, skip=75, sigma=0.25, seed=11)  # 6 images
    local_store = ResultsStore(tmp_path / "local.sqlite")
    local = run_certification(job, local_store, model=model, data=data)
    store = ResultsStore(tmp_path / "ray.sqlite")
    marker = tmp_path / "crashed"
    try:
        res = run_certification(
            job, store, backend="ray", num_workers=2, model=model, data=data, _crash_once=(150, str(marker))
        )
    finally:
        if ray.is_initialized():  # the runner shuts down what it started; make sure of it
            ray.shutdown()
    assert not ray.is_initialized()
    assert marker.exists() and 150 in res.redone  # a worker really died on image 150 ...
    assert res.complete and res.done == 6  # ... and its image was redone
    assert _comparable(local_store.results(local.run_id)).equals(_comparable(store.results(res.run_id)))
