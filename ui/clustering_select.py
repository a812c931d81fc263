"""Reading a clicked point of a plotly chart (``on_select="rerun"``) on the clustering page."""
from __future__ import annotations


def selected_index(event) -> int | None:
    """Image index carried in customdata of the first selected point (None when nothing is selected)."""
    try:
        pts = event.selection.points if event is not None else []
    except AttributeError:
        pts = (event or {}).get("selection", {}).get("points", [])
    for pnt in pts or []:
        cd = pnt.get("customdata") if isinstance(pnt, dict) else None
        if isinstance(cd, dict):
            cd = cd.get("0", cd.get(0))
        elif isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        try:
            if cd is not None:
                return int(cd)
        except (TypeError, ValueError):
            continue
    return None
