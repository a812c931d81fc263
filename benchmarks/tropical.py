"""Tropical geometry line: speed of the exact zonotope and page geometry.

Prints
1. 2-D zonotope vertices of 100,000 random generators (angle sort; target < 50 ms), and the
   ratio to a brute-force scipy ConvexHull over all 2^m subset sums for the m where that is
   feasible (m <= 16);
2. 3-D zonotope vertices (face enumeration) against Qhull over subset sums;
3. a full recompute of the page's geometry for p hidden units (default 64; target < 200 ms):
   ``pair_geometry`` = zonotopes, hull, lifted zonotopes, dual subdivision, T(R), both
   constructions of the boundary and their gap, linear regions, region <-> dual-vertex link;
   with a per-stage breakdown, and the time to build the plotly figures;
4. the linear regions at p = 256 (planar-graph arrangement, O(p^2 log p)) against the polygon-splitting
   construction (O(p^3)), the dual subdivision and pair_geometry at p = 256 (target < 0.5 s). With
   delta(R) read off the line arrangement instead of Qhull over ~37k lifted points: dual subdivision
   0.12-0.14 s (was 0.35-0.49 s), pair_geometry 0.34-0.38 s (was 0.64-0.74 s), one BLAS thread, the two
   versions run back to back (4 pairs of runs) on the shared 2-core machine at load average 1.9-2.3.

Usage: ``python benchmarks/tropical.py [--p 64] [--repeats 7] [--threads 1]`` (``--threads`` caps numpy's BLAS
pool through threadpoolctl).
Timings on a shared machine are noisy: each figure is the median (and best) of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _timing import wall_times  # noqa: E402
from scipy.spatial import ConvexHull  # noqa: E402

from robustcore.tropical import (  # noqa: E402
    ShallowReluNet,
    decision_boundary_cells,
    dual_subdivision,
    linear_regions_2d,
    pair_geometry,
    subset_sums,
    zonotope_vertices,
)


def timeit(fn, repeats: int) -> tuple[float, float]:
    """(median, best) wall time in ms."""
    ts = [t * 1e3 for t in wall_times(fn, repeats)]
    return float(np.median(ts)), float(np.min(ts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=64, help="hidden units for the page-geometry timing")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    try:  # numpy's BLAS is already loaded, so the environment variable alone would come too late
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:  # pragma: no cover
        print("threadpoolctl is missing: BLAS may use every core despite --threads")
    rng = np.random.default_rng(0)
    print(f"load average: {os.getloadavg()} (shared machine: figures are noisy)\n")

    print("1. 2-D zonotope vertices (angle sort)")
    G = rng.normal(size=(100_000, 2))
    med, best = timeit(lambda: zonotope_vertices(G), args.repeats)
    V = zonotope_vertices(G)
    print(f"   m = 100,000 generators: median {med:.1f} ms, best {best:.1f} ms, {len(V)} vertices (target < 50 ms)")
    print("   vs brute force: scipy ConvexHull over all 2^m subset sums")
    for m in (8, 12, 14, 16):
        Gm = rng.normal(size=(m, 2))
        ours, _ = timeit(lambda: zonotope_vertices(Gm), args.repeats)
        brute, _ = timeit(lambda: ConvexHull(subset_sums(Gm, max_m=16)), max(1, args.repeats // 2))
        print(f"   m = {m:2d}: ours {ours:8.3f} ms, brute {brute:9.2f} ms, ratio brute/ours = {brute / ours:9.0f}x")

    print("\n2. 3-D zonotope vertices (face enumeration) vs Qhull over subset sums")
    for m in (8, 12, 16, 64):
        Gm = rng.normal(size=(m, 3))
        ours, _ = timeit(lambda: zonotope_vertices(Gm), args.repeats)
        if m <= 16:
            brute, _ = timeit(lambda: ConvexHull(subset_sums(Gm, max_m=16)), max(1, args.repeats // 2))
            print(f"   m = {m:2d}: ours {ours:8.2f} ms, brute {brute:9.2f} ms, ratio = {brute / ours:7.0f}x")
        else:
            print(f"   m = {m:2d}: ours {ours:8.2f} ms ({len(zonotope_vertices(Gm))} vertices = m^2 - m + 2 = {m*m-m+2}); "
                  "brute force infeasible (2^64 points)")

    p = args.p
    net = ShallowReluNet(rng.normal(size=(p, 2)), rng.normal(size=p), rng.normal(size=(2, p)), rng.normal(size=2))
    box = (-4.0, 4.0, -4.0, 4.0)
    print(f"\n3. page geometry for p = {p} hidden units, box {box}")
    pair_geometry(net, box)  # warm-up (imports, caches)
    med, best = timeit(lambda: pair_geometry(net, box), args.repeats)
    geo = pair_geometry(net, box)
    print(f"   pair_geometry: median {med:.0f} ms, best {best:.0f} ms (target < 200 ms)")
    c = geo.counts
    print(f"   {c['linear regions of f in the box']} regions (bound {c['bound 1 + p + C(p,2)']}), "
          f"{c['cells of delta(R)']} cells of delta(R), {c['linear regions of R (upper vertices)']} upper vertices, "
          f"boundary gap between the two constructions {geo.B_gap:.1e}")
    for name, fn in (
        ("  linear regions", lambda: linear_regions_2d(net, box)),
        ("  dual subdivision", lambda: dual_subdivision(net)),
        ("  T(R) pieces + clip", lambda: dual_subdivision(net).hypersurface_segments(box)),
        ("  boundary by cells", lambda: decision_boundary_cells(net, box)),
    ):
        m_, b_ = timeit(fn, args.repeats)
        print(f"   {name:22s} median {m_:6.1f} ms, best {b_:6.1f} ms")
    print("   scaling of pair_geometry with p:")
    for pp in (8, 16, 32, 64, 128, 256):
        nt = ShallowReluNet(rng.normal(size=(pp, 2)), rng.normal(size=pp), rng.normal(size=(2, pp)), rng.normal(size=2))
        m_, b_ = timeit(lambda: pair_geometry(nt, box), max(3, args.repeats // 2))
        print(f"     p = {pp:3d}: median {m_:6.1f} ms, best {b_:6.1f} ms, {len(linear_regions_2d(nt, box))} regions in the box")
    from robustcore.tropical.regions import _linear_regions_split

    print("\n4. p = 256 hidden units (the page's largest net)")
    nt = ShallowReluNet(rng.normal(size=(256, 2)), rng.normal(size=256), rng.normal(size=(2, 256)), rng.normal(size=2))
    m_new, _ = timeit(lambda: linear_regions_2d(nt, box), 3)
    m_old, _ = timeit(lambda: _linear_regions_split(nt, box), 3)
    print(f"   linear regions: planar graph {m_new:.0f} ms, polygon splitting {m_old:.0f} ms "
          f"({len(linear_regions_2d(nt, box))} regions)")
    m_sub, _ = timeit(lambda: dual_subdivision(nt), 3)
    m_pg, _ = timeit(lambda: pair_geometry(nt, box), 3)
    print(f"   dual subdivision {m_sub:.0f} ms; pair_geometry {m_pg:.0f} ms (target < 500 ms)")
    try:
        from robustcore.viz.tropical import dual_space_figure, input_space_figure, lifted_figure

        m_, b_ = timeit(lambda: (input_space_figure(geo, net), dual_space_figure(geo), lifted_figure(geo)), 3)
        print(f"   plotly figures (3 panels): median {m_:.0f} ms, best {b_:.0f} ms (not part of the compute target)")
    except ImportError as exc:  # pragma: no cover
        print(f"   figures skipped: {exc}")


if __name__ == "__main__":
    main()
