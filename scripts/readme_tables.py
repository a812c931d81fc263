"""Print the README's "headline comparisons" section from the tables `robustcore reproduce LINE` saved.

The README quotes these tables verbatim; after a rerun of any line, regenerate the section with
``python scripts/readme_tables.py`` and paste it over the old one.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robustcore.reproduce import load_result  # noqa: E402

TITLES = {
    "gabor": "Gabor LeNet vs the same-size standard LeNet under PGD (Pérez et al.)",
    "clustr": "ClusTR, + free AT, + QTRADES vs cross-entropy, under the official attack and ours (Alfarra et al.)",
    "smoothing": "Data-dependent vs fixed sigma (Alfarra et al., DDRS; Cohen et al.'s certificate)",
    "tropical": "Tropical vs whole-unit and per-weight magnitude pruning (Alfarra et al., tropical geometry)",
    "batchsize": "tau* against tau = 1, tau = n and the adaptive rules (Gower et al.; Alfarra et al.)",
}


def main() -> int:
    for line, title in TITLES.items():
        got = load_result(line)
        print(f"### {title}\n")
        if got is None:
            print(f"Not run yet: `robustcore reproduce {line}`.\n")
            continue
        _, md = got
        table, _, rest = md.partition("\n\n")
        printed_by = rest.split("\n\n", 1)[0]
        print(f"{table}\n\n{printed_by} Protocol and every deviation: `robustcore/results/{line}.md`.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
