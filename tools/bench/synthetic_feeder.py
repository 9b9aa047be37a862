#!/usr/bin/env python3
"""A synthetic radial 20 kV feeder of any size, for scaling benchmarks.

Writes DIR/network.m (MATPOWER case, version 2), DIR/elements.csv (one load per
bus but the slack, SimBench's element-table layout) and DIR/profiles.csv.gz
(four load profiles of --steps quarter hours, SimBench's profile layout), so that
`gridsim pf DIR/network.m` and a scenario naming the three files run on it, and
DIR/feeder.json (the same grid as plain arrays for power-grid-model). With
--own-profiles every load gets profile columns of its own (its class's profile
times a fixed factor of 1.00 to 1.01 per load), as smart-meter data would: the
profile file then has two columns per load.

The grid: bus 1 is the slack (1.0 p.u.); every further bus hangs off a bus drawn
uniformly from the buses before it (a random recursive tree: depth about
e * ln(N), so the voltage stays in band at any size) over 100 to 400 m of
overhead line (0.306 + j0.35 ohm/km, 9.7 nF/km: 94-AL1/15-ST1A at 20 kV). The total load is 12 MW at cos phi 0.97 whatever N, spread evenly.
Stdlib only; the same --seed gives the same files.

Usage: synthetic_feeder.py --buses 10000 [--steps 672] [--seed 1] [--own-profiles] DIR
"""
import argparse
import gzip
import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

VN_KV = 20.0
BASE_MVA = 1.0
R_OHM_PER_KM, X_OHM_PER_KM, C_NF_PER_KM = 0.306, 0.35, 9.7
TOTAL_P_MW = 12.0
COS_PHI = 0.97
PROFILES = ["H0", "G0", "L0", "G4"]


def tree(n, rng):
    """Parent (1-based) and length in km of every bus 2..n."""
    return [(rng.randint(1, i - 1), rng.uniform(0.1, 0.4)) for i in range(2, n + 1)]


def write_case(path, n, edges, p_mw, q_mvar):
    z_base = VN_KV**2 / BASE_MVA
    b_per_km = 2 * math.pi * 50 * C_NF_PER_KM * 1e-9 * z_base
    with open(path, "w") as f:
        f.write(f"function mpc = synthetic_{n}\n")
        f.write(f"% synthetic radial {VN_KV:g} kV feeder, {n} buses (tools/bench/synthetic_feeder.py)\n")
        f.write("mpc.version = '2';\nmpc.baseMVA = 1.0;\n\nmpc.bus = [\n")
        f.write(f"\t1\t3\t0\t0\t0\t0\t1\t1.0\t0\t{VN_KV:g}\t1\t1.1\t0.9;\n")
        for b in range(2, n + 1):
            f.write(f"\t{b}\t1\t{p_mw:.9g}\t{q_mvar:.9g}\t0\t0\t1\t1.0\t0\t{VN_KV:g}\t1\t1.1\t0.9;\n")
        f.write("];\n\nmpc.gen = [\n\t1\t0\t0\t9999\t-9999\t1.0\t1\t1\t9999\t-9999;\n];\n\n")
        f.write("mpc.branch = [\n")
        for i, (parent, km) in enumerate(edges):
            r = R_OHM_PER_KM * km / z_base
            x = X_OHM_PER_KM * km / z_base
            b = b_per_km * km
            f.write(f"\t{parent}\t{i + 2}\t{r:.9g}\t{x:.9g}\t{b:.9g}\t10\t0\t0\t0\t0\t1\t-360\t360;\n")
        f.write("];\n")


def write_elements(path, n, p_mw, q_mvar, rng, own):
    """The element table; returns each load's profile class (index in PROFILES)."""
    classes = []
    with open(path, "w") as f:
        f.write("kind,pp_index,name,pp_bus,bus,p_mw,q_mvar,sn_mva,profile,p_profile_col,"
                "q_profile_col,type,phys_type,subnet,in_service,scaling\n")
        for b in range(2, n + 1):
            k = rng.randrange(len(PROFILES))
            classes.append(k)
            prof = f"C{b}" if own else PROFILES[k]
            f.write(f"load,{b - 2},Load {b},{b - 1},{b},{p_mw:.9g},{q_mvar:.9g},"
                    f"{p_mw / COS_PHI:.9g},{prof},{prof}_pload,{prof}_qload,,,feeder,True,1.0\n")
    return classes


def own_factor(b):
    """A load's fixed factor on its class profile (1.00 to 1.01), from its bus."""
    return 1.0 + 0.01 * ((b * 2654435761) % 1000) / 1000


def write_profiles(path, steps, rng, own_classes=None):
    """The class profiles, or with `own_classes` one pair of columns per load."""
    start = datetime(2016, 1, 1)
    if own_classes is None:
        cols = [c for p in PROFILES for c in (f"{p}_pload", f"{p}_qload")]
    else:
        cols = [c for b in range(2, len(own_classes) + 2) for c in (f"C{b}_pload", f"C{b}_qload")]
    with gzip.open(path, "wt", compresslevel=6) as f:
        f.write("step,time," + ",".join(cols) + "\n")
        for s in range(steps):
            t = start + timedelta(minutes=15 * s)
            hour = t.hour + t.minute / 60
            pq = []
            for k in range(len(PROFILES)):
                base = 0.55 + 0.4 * math.sin(math.pi * (hour - 6 - 2 * k) / 12) ** 2
                p = max(0.05, base + rng.gauss(0, 0.05))
                pq.append((p, p * 0.9 + rng.gauss(0, 0.02)))
            if own_classes is None:
                vals = [f"{x:.6f}" for p, q in pq for x in (p, q)]
            else:
                vals = [f"{x * own_factor(b):.6f}" for b, k in enumerate(own_classes, start=2)
                        for x in pq[k]]
            f.write(f"{s},{t.strftime('%d.%m.%Y %H:%M')}," + ",".join(vals) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buses", type=int, required=True)
    ap.add_argument("--steps", type=int, default=672)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--own-profiles", action="store_true",
                    help="a pair of profile columns per load instead of four shared profiles")
    ap.add_argument("out", type=Path)
    a = ap.parse_args()
    if a.buses < 2 or a.steps < 1:
        ap.error("--buses must be at least 2 and --steps at least 1")
    rng = random.Random(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    n = a.buses
    edges = tree(n, rng)
    p_mw = TOTAL_P_MW / (n - 1)
    q_mvar = p_mw * math.tan(math.acos(COS_PHI))
    write_case(a.out / "network.m", n, edges, p_mw, q_mvar)
    classes = write_elements(a.out / "elements.csv", n, p_mw, q_mvar, rng, a.own_profiles)
    write_profiles(a.out / "profiles.csv.gz", a.steps, rng, classes if a.own_profiles else None)
    z_base = VN_KV**2 / BASE_MVA
    (a.out / "feeder.json").write_text(json.dumps({
        "vn_kv": VN_KV, "buses": n, "p_mw": p_mw, "q_mvar": q_mvar,
        "r_ohm_per_km": R_OHM_PER_KM, "x_ohm_per_km": X_OHM_PER_KM, "c_nf_per_km": C_NF_PER_KM,
        "lines": [[p, i + 2, km] for i, (p, km) in enumerate(edges)],
        "z_base_ohm": z_base,
    }))


if __name__ == "__main__":
    main()
