"""Section 3 of the clustering page: the saved mnist-5k reproduction (ClusTR, + free AT, + QTRADES vs cross-entropy
under the official attack and ours) and the comparisons run with ``robustcore clustr-train``, each with its
configuration."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ui.common import StreamlitProgress, guard


def _mean_std_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``mean ± std`` text cells (what `robustcore reproduce clustr` prints), keys first."""
    metrics = [c[:-5] for c in table.columns if c.endswith(" mean")]
    keys = [c for c in table.columns if not (c.endswith(" mean") or c.endswith(" std")) and c != "seeds"]
    out = table[keys].copy()
    for m in metrics:
        mu, sd = table[f"{m} mean"], table[f"{m} std"]
        out[m] = [f"{a:.3f}" + ("" if (b is None or (isinstance(b, float) and math.isnan(b))) else f" ± {b:.3f}")
                  for a, b in zip(mu, sd)]
    if "seeds" in table.columns:
        out["seeds"] = table["seeds"].astype(int)
    return out


def reproduction_section() -> None:
    """The saved table of ``robustcore reproduce clustr`` with its protocol and the command behind it."""
    from robustcore.reproduce import load_result

    st.subheader("ClusTR vs cross-entropy on mnist-5k, under the official attack and ours")
    saved = load_result("clustr")
    if saved is None:
        st.info("No saved reproduction yet. Run `robustcore reproduce clustr` (about 15 minutes on 2 CPU cores; "
                "`--device cuda` uses a GPU); this section then shows its table.")
        return
    table, md = saved
    st.dataframe(_mean_std_frame(table), hide_index=True, width="stretch", height="content")  # every row visible
    printed = [ln for ln in md.splitlines() if ln.startswith("Printed by")]
    st.caption((printed[0] + " " if printed else "") + "Accuracy on the test images: mean ± standard deviation over "
               "the seeds. Where the official attack (cross-entropy on the soft exp-scores) leaves a model much more "
               "accurate than the margin attacks, its gradient is masked: that number overstates robustness. PGD "
               "accuracy is an upper bound on robust accuracy, never a certificate.")
    with st.expander("Protocol: the paper's, ours, every deviation, and each run's configuration"):
        body = md.split("\n\n", 2)
        st.markdown(body[2] if len(body) > 2 else md)


def _store_table() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    from robustcore.store import ResultsStore

    df = ResultsStore().metrics(kind="clustr-compare")
    if df.empty:
        return None
    df = df.assign(model=[(e or {}).get("model") for e in df["extra"]],
                   config=[(e or {}).get("config", "") for e in df["extra"]])
    latest = df.groupby("model")["run_id"].max()
    df = df[df["run_id"] == df["model"].map(latest)]
    table = df.pivot_table(index="model", columns="name", values="value", aggfunc="last")
    first = [c for c in ("clean (soft)", "clean (nearest)") if c in table.columns]
    eps_cols = sorted((c for c in table.columns if "@" in c), key=lambda c: (float(c.split("@")[1]), c))
    cols = first + eps_cols + [c for c in table.columns if c not in first and c not in eps_cols]
    configs = df.groupby("model")["config"].last().reindex(table.index)
    return table[cols].reset_index(), configs.reset_index()


def store_section(dataset: str) -> None:
    """The latest ``clustr-train`` comparison in the results store, one row per model with its configuration."""
    st.subheader("Your own runs (`robustcore clustr-train`)")
    with guard("reading the comparison from the results store"):
        got = _store_table()
        if got is None:
            st.info("No `clustr-train` run in the results store yet. `robustcore clustr-train --data mnist-5k` trains "
                    "the four models with the official recipe and attacks them both ways (`--recipe ours` is faster; "
                    "`--schedule-scale 0.2` shortens the schedule, and says so).")
        else:
            table, configs = got
            st.dataframe(table, hide_index=True, width="stretch")
            st.dataframe(configs, hide_index=True, width="stretch",
                         column_config={"config": st.column_config.TextColumn("configuration", width="large")})
            st.caption("official@ε: cross-entropy on the soft exp-scores (soft rule); ours@ε: margin loss on the "
                       "nearest-centre logits (the certified rule).")
        if st.button(f"Train and attack here (recipe 'ours' on {dataset}, several minutes the first time)",
                     key="cl_compare"):
            from robustcore.clustr.training import compare_models

            bar = StreamlitProgress("training...")
            compare_models(eps_list=(8 / 255, 0.1), kinds=("clustr", "clustr-free", "clustr-qtrades", "ce"),
                           overrides={"dataset": dataset}, steps=20, restarts=3, progress=bar, recipe="ours")
            bar.done()
            st.rerun()
