import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from robustcore.store import SCHEMA_VERSION, ResultsStore, StoreError


def test_runs_results_metrics_round_trip(tmp_path):
    s = ResultsStore(tmp_path / "r.sqlite")
    run = s.start_run("certify", {"sigma": 0.25, "n": 100})
    rows = [{"index": i, "label": i % 3, "prediction": i % 3, "radius": 0.1 * i, "sigma": 0.25,
             "correct": True, "time_s": 0.01, "extra": {"counts": [i, 1]}} for i in range(6)]
    assert s.add_results(run, rows) == 6
    df = s.results(run)
    assert df["index"].tolist() == list(range(6))
    assert df["radius"].tolist() == pytest.approx([0.1 * i for i in range(6)])
    assert df["extra"][3] == {"counts": [3, 1]}
    assert s.done_indices(run) == set(range(6))
    s.add_metric(run, "pgd_acc", 0.5, {"eps": 0.1})
    m = s.metrics(kind="certify")
    assert m["value"].tolist() == [0.5] and m["extra"][0] == {"eps": 0.1}
    runs = s.runs("certify")
    assert runs["n_results"].tolist() == [6] and runs["config"][0] == {"sigma": 0.25, "n": 100}


def test_resume_returns_the_same_run_and_replaces_by_index(tmp_path):
    s = ResultsStore(tmp_path / "r.sqlite")
    a = s.start_run("certify", {"x": 1})
    assert s.start_run("certify", {"x": 1}) == a
    assert s.start_run("certify", {"x": 2}) != a
    assert s.start_run("certify", {"x": 1}, resume=False) != a
    s.add_results(a, [{"index": 0, "radius": 1.0}])
    s.add_results(a, [{"index": 0, "radius": 2.0}])
    assert s.results(a)["radius"].tolist() == [2.0]


def test_a_bad_row_writes_nothing(tmp_path):
    s = ResultsStore(tmp_path / "r.sqlite")
    run = s.start_run("k", {})
    with pytest.raises(ValueError):
        s.add_results(run, [{"index": 0}, {"radius": 1.0}])
    assert s.results(run).empty


WRITER = textwrap.dedent(
    """
    import sys
    from robustcore.store import ResultsStore
    path, run, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s = ResultsStore(path)
    for i in range(start, start + count):
        s.add_result(run, index=i, radius=float(i))
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "r.sqlite"
    s = ResultsStore(path)
    run = s.start_run("k", {})
    # Separate interpreters, one transaction per row, interleaved on the same file.
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(run), str(k * 150), "150"],
                              env=dict(os.environ)) for k in range(2)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    assert s.done_indices(run) == set(range(300))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="newer"):
        ResultsStore(path)
    assert _digest(path) == before


def test_foreign_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"my precious notes" * 100)
    before = _digest(path)
    with pytest.raises(StoreError, match="not a robustcore results store"):
        ResultsStore(path)
    assert _digest(path) == before


def test_unknown_run(tmp_path):
    s = ResultsStore(tmp_path / "r.sqlite")
    with pytest.raises(StoreError, match="no run 42"):
        s.add_results(42, [{"index": 0}])


def test_unusable_paths_are_one_sentence(tmp_path):
    for bad in ("/proc/nope/x.sqlite", "/dev/null", str(tmp_path)):
        with pytest.raises(StoreError) as info:
            ResultsStore(bad)
        assert "\n" not in str(info.value)
    with pytest.raises(TypeError):
        ResultsStore(12345)


def test_read_only_folder_is_refused(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; os.access says so too")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StoreError, match="not writable"):
        ResultsStore(ro / "s.sqlite")


def test_damaged_pages_are_refused_once_and_untouched(tmp_path):
    import os

    path = tmp_path / "s.sqlite"
    store = ResultsStore(path)
    run = store.start_run("x", {"a": 1})
    for i in range(20):
        store.add_results(run, [{"index": j, "radius": 0.1, "extra": {"k": [1, 2, 3]}}
                                for j in range(i * 500, (i + 1) * 500)])
    data = bytearray(path.read_bytes())
    rng = __import__("random").Random(0)
    for off in range(4096 * 3, len(data), 4096 * 5):  # scribble over the cells of every fifth page
        data[off + 100:off + 400] = bytes(rng.randrange(256) for _ in range(300))
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="damaged") as info:
        ResultsStore(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_transaction_makes_check_then_insert_atomic(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    run = store.start_run("x", {})
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("INSERT INTO metrics(run_id, name, value, extra, created) VALUES (?,?,?,?,?)",
                        (run, "m", 1.0, "{}", 0.0))
            raise RuntimeError("abort after the insert")
    assert store.metrics(run).empty  # rolled back
    with store.transaction() as con:
        con.execute("INSERT INTO metrics(run_id, name, value, extra, created) VALUES (?,?,?,?,?)",
                    (run, "m", 1.0, "{}", 0.0))
    assert len(store.metrics(run)) == 1
