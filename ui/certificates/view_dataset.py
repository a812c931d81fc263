"""View "Dataset": certified accuracy of every stored run on this dataset (our own runs and imported
published logs, labelled), the DDRS reproduce table, and a button that certifies test images."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.viz.smoothing import certified_accuracy_figure
from ui.certificates import compute
from ui.certificates.config import K_IMAGES_CHOICES
from ui.common import StreamlitProgress, guard, show_figure

RADII = np.round(np.linspace(0, 1.5, 151), 3)


def _describe(kind: str, cfg: dict) -> tuple[str, str, bool]:
    """(curve name, status, is_guarantee) of a stored run."""
    from robustcore.smoothing.dd_training import DD_KIND

    if cfg.get("source") == "imported":
        name = cfg.get("name") or cfg.get("path") or "published log"
        return (f"imported: {name} (σ = {cfg.get('sigma')})",
                "imported from a published log (Cohen-format radii as the authors report them)", True)
    if kind == DD_KIND:
        dd = " DD-trained" if cfg.get("dd_trained") else ""
        return (f"data-dependent σ_0 = {cfg.get('sigma0')} [{cfg.get('model')}@{cfg.get('train_sigma')}{dd}] "
                f"n={cfg.get('n')}", "NOT a guarantee (certifies g at σ_x only)", False)
    if isinstance(cfg.get("source"), dict):
        src = cfg["source"]
        return (f"data-dependent + memory σ_0 = {src.get('sigma0')} [{src.get('model')}@{src.get('train_sigma')}] "
                f"n={src.get('n')}", "guarantee (memory classifier)", True)
    if cfg.get("checkpoint"):
        model = f"checkpoint {cfg['checkpoint']}"
    else:
        model = f"{cfg.get('model', '?')}@{cfg.get('train_sigma', cfg.get('sigma'))}"
    return f"fixed σ = {cfg.get('sigma')} [{model}] n={cfg.get('n')}", "guarantee (Cohen)", True


def _dataset_of(kind: str, cfg: dict) -> str | None:
    if isinstance(cfg.get("source"), dict):
        return cfg["source"].get("dataset", "digits")
    if cfg.get("source") == "imported":
        return cfg.get("dataset")  # None: the log does not say which data it certified
    return cfg.get("dataset", "digits")


@st.cache_data(show_spinner=False, max_entries=16)
def dataset_runs(dataset: str, version: tuple) -> tuple[dict, list, list, pd.DataFrame]:
    """Curves, dashed (not guarantees) and dotted (imported) names, and a summary of the runs on ``dataset``.

    Keyed by the store's stamp (``compute.store_version``), so a new run shows without clearing caches.
    Imported runs that do not record their dataset are shown for every dataset, labelled as imported.
    """
    from robustcore.smoothing.dd_training import DD_KIND, MEMORY_KIND
    from robustcore.smoothing.metrics import average_certified_radius, certified_accuracy
    from robustcore.smoothing.runner import RUN_KIND
    from robustcore.store import ResultsStore

    curves, dashed, dotted, rows = {}, [], [], []
    with compute.store_errors():
        store = ResultsStore()
        runs = store.runs()
        for _, run in runs[runs["kind"].isin([RUN_KIND, DD_KIND, MEMORY_KIND])].iterrows():
            cfg = run["config"] if isinstance(run["config"], dict) else {}
            ds = _dataset_of(run["kind"], cfg)
            if run["n_results"] == 0 or ds not in (dataset, None):
                continue
            df = store.results(int(run["id"]))
            name, status, _ = _describe(run["kind"], cfg)
            name = f"#{run['id']} {name} ({len(df)} img)"
            curves[name] = (RADII, certified_accuracy(df, RADII))
            if run["kind"] == DD_KIND:
                dashed.append(name)
            if cfg.get("source") == "imported":
                dotted.append(name)
            acc = certified_accuracy(df, [0.0, 0.25, 0.5, 0.75, 1.0])
            rows.append({"run": int(run["id"]), "curve": name, "source": "imported" if name in dotted else "ours",
                         "images": len(df), **{f"acc@{r}": a for r, a in zip([0, 0.25, 0.5, 0.75, 1.0], acc)},
                         "ACR": average_certified_radius(df), "status": status})
    return curves, dashed, dotted, pd.DataFrame(rows)


def render(dataset: str, method: str, train_sigma: float, sigma: float, n: int, builtin: bool) -> None:
    """Stored runs on ``dataset``, the reproduce table, and the certify button (built-in digits models)."""
    st.subheader("Certified accuracy on the test set")
    st.markdown("Certified accuracy $\\frac1m\\#\\{i: g(x_i)=y_i,\\ R_i\\ge r\\}$ of every stored run on this "
                "dataset, as in the papers' figures. Dashed curves are **not** guarantees; dotted curves are "
                "**imported** published logs (`robustcore import-log PATH --format cohen --sigma S`).")
    with guard("reading the results store"):
        curves, dashed, dotted, summary = dataset_runs(dataset, compute.store_version())
        if curves:
            show_figure(certified_accuracy_figure(curves, dashed, dotted), key="cert_dataset_curves", data=summary)
            st.dataframe(summary, hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.3f")
                                        for c in summary.columns if c.startswith("acc@") or c == "ACR"})
        else:
            st.info("No stored certification runs on this dataset yet: certify a few test images below, run "
                    f"`robustcore certify --dataset {dataset} ...`, or import a published log.")
    if builtin and dataset == "digits":
        d1, d2 = st.columns([1, 2])
        k_img = d1.select_slider("Test images", K_IMAGES_CHOICES, key="cert_k_img")
        if d2.button(f"Certify {k_img} test images: fixed σ = {sigma:.2f} and data-dependent, n = {n:,}"):
            with guard("certifying test images"), compute.store_errors():
                from robustcore.smoothing.dd_training import run_dd_comparison

                bar = StreamlitProgress("Certifying")
                try:
                    run_dd_comparison(method, float(train_sigma), sigma, n=n, max_images=int(k_img), progress=bar)
                finally:
                    bar.done()
                st.rerun()  # the store's stamp changed: the curves above reload, no cache is cleared
    else:
        st.caption(f"Certify this dataset from the command line: `robustcore certify --dataset {dataset} --sigma "
                   f"{sigma:.2f} --n {n}` (with `--checkpoint FILE` for your own model).")
    render_reproduce()


def compact_reproduce(table: pd.DataFrame, digits: int = 3) -> tuple[pd.DataFrame, bool]:
    """The reproduce table for reading: each "<name> mean" / "<name> std" pair becomes one column "<name>"
    holding "mean ± std" (rounded to ``digits``), and "sigma" in names and cells becomes "σ".

    Returns the table and whether any pair was merged (columns without a partner are kept as they are).
    """
    out, paired = {}, False
    for col in table.columns:
        if col.endswith(" std") and f"{col[:-4]} mean" in table.columns:
            continue  # merged into its mean
        if col.endswith(" mean") and f"{col[:-5]} std" in table.columns:
            mean, std = table[col], table[f"{col[:-5]} std"]
            out[col[:-5]] = [f"{m:.{digits}f} ± {d:.{digits}f}" if pd.notna(m) and pd.notna(d) else ""
                             for m, d in zip(mean, std)]
            paired = True
        else:
            out[col] = table[col]
    shown = pd.DataFrame(out)
    shown.columns = [str(c).replace("sigma", "σ") for c in shown.columns]
    for col in shown.columns:
        if shown[col].dtype == object:
            shown[col] = shown[col].map(lambda v: v.replace("sigma", "σ") if isinstance(v, str) else v)
    return shown, paired


def render_reproduce() -> None:
    """The saved DDRS headline comparison (``robustcore reproduce smoothing``), or a one-line note."""
    st.subheader("Data-dependent vs fixed σ (reproduce table)")
    with guard("reading the saved reproduce table"):
        from robustcore.reproduce import load_result

        saved = load_result("smoothing")
        if saved is None:
            st.info("The DDRS reproduce table has not been run yet: `robustcore reproduce smoothing` runs it "
                    "(mean and spread over seeds on mnist-5k) and saves it for this page.")
            return
        table, md = saved
        shown, paired = compact_reproduce(table)
        st.dataframe(shown, hide_index=True, width="stretch", height="content")  # every row visible
        c1, c2 = st.columns([1, 5], vertical_alignment="center")
        c1.download_button("CSV", lambda: table.to_csv(index=False).encode(), file_name="smoothing-reproduce.csv",
                           mime="text/csv", key="cert_reproduce__csv", on_click="ignore", icon=":material/download:",
                           help="The saved table with every digit (means and standard deviations apart).")
        c2.caption(("Accuracies, ACR and mean σ: mean ± standard deviation over the seeds. " if paired else "")
                   + "Rerun with `robustcore reproduce smoothing` (add `--device cuda` on a GPU).")
        with st.expander("Protocol and the command that printed it"):
            st.markdown(md)
