"""The rig's output: a short table (one row per mode) and the --json object.
Pure functions of the metrics dicts made by ModeResult.metrics().
"""
import json

from .util import human_bytes

COLUMNS = [
    # (header, key, format)
    ("mode", "mode", "{}"),
    ("last/(F/B)", "time_to_last_ready_over_floor", "{:.3f}"),
    ("p50/(F/B)", "p50_over_floor", "{:.3f}"),
    ("origin/F", "origin_bytes_over_F", "{:.3f}"),
    ("xzone/F", "cross_zone_bytes_over_F", "{:.3f}"),
    ("recv CPU s/GB", "recv_cpu_s_per_GB", "{:.2f}"),
    ("machine busy", "machine_busy_fraction", "{:.0%}"),
    ("peak agent RSS", "peak_agent_rss_bytes", None),
    ("last (s)", "time_to_last_ready_s", "{:.2f}"),
]


def _cell(m, key, fmt):
    v = m.get(key)
    if v is None:
        return "-"
    if fmt is None:
        return human_bytes(v)
    return fmt.format(v)


def table(header, rows, skipped):
    """header: dict with F, B_bps, B_nominal_bps, N, zones, floor_s."""
    out = [f"F = {header['F']} bytes ({human_bytes(header['F'])}), "
           f"B = {header['B_bps'] / 1e6:.1f} Mbit/s measured goodput of one link "
           f"(nominal {header['B_nominal_bps'] / 1e6:.0f} Mbit/s), N = {header['N']}, "
           f"zones = {header['zones']}, floor F/B = {header['floor_s']:.2f} s"]
    if header.get("page_cache_fill_cpu_s_per_GB") is not None:
        out.append(f"machine: {header.get('cpus')} CPUs; writing 1 GB of new data into the page "
                   f"cache costs {header['page_cache_fill_cpu_s_per_GB']:.2f} CPU s here "
                   f"(every receiver pays it)")
    cells = [[h for h, _, _ in COLUMNS]]
    for m in rows:
        cells.append([_cell(m, k, f) for _, k, f in COLUMNS])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    for j, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    for m in rows:
        if m.get("error"):
            out.append(f"{m['mode']}: FAILED: {m['error']}")
        for note in m.get("notes", []):
            out.append(f"{m['mode']}: {note}")
    for mode, why in skipped.items():
        out.append(f"{mode}: skipped: {why}")
    return "\n".join(out)


def json_line(header, rows, skipped):
    """One object: the primary mode's figures at the top level (shardcast when it ran,
    else the first baseline), every mode's figures under "modes"."""
    obj = dict(header)
    primary = rows[0] if rows else None
    if primary:
        obj.update({k: v for k, v in primary.items() if k not in ("ready_s",)})
    obj["modes"] = {m["mode"]: m for m in rows}
    obj["skipped"] = skipped
    return json.dumps(obj, sort_keys=False)
