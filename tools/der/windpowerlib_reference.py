"""Wind turbine power curves for gridsim, and reference outputs from windpowerlib.

1. assets/wind/power_curves.csv: the power curves of common onshore turbines,
   copied as data from the OpenEnergy Database turbine library as
   windpowerlib 0.2.2 ships it (windpowerlib/oedb/power_curves.csv;
   columns turbine_type, wind_speed_ms, power_kw).
2. tests/data/der/windpowerlib_power.csv: a year of hourly wind speeds
   (Weibull k = 2, mean 6.5 m/s, fixed numpy seed) and the power of each
   shipped turbine from windpowerlib.power_output.power_curve (no density
   correction), for tests/wind_model.rs.

Never edit either output by hand; rerun:
    /tmp/refvenv/bin/python tools/der/windpowerlib_reference.py
"""
import csv
import pathlib

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import power_output

ROOT = pathlib.Path(__file__).resolve().parents[2]
TURBINES = ["E-82/2350", "E-101/3050", "E-115/3200", "E-126/4200", "V90/2000",
            "V112/3450", "V126/3450", "N131/3600", "SWT130/3600", "GE120/2750"]


def main():
    src = pathlib.Path(windpowerlib.__file__).parent / "oedb" / "power_curves.csv"
    table = pd.read_csv(src, index_col=0)
    curves = {}
    for t in TURBINES:
        row = table.loc[t].dropna()
        speeds = np.array([float(c) for c in row.index])
        power_kw = row.values.astype(float) / 1000.0
        curves[t] = (speeds, power_kw)
    out = ROOT / "assets/wind/power_curves.csv"
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["turbine_type", "wind_speed_ms", "power_kw"])
        for t, (v, p) in curves.items():
            for a, b in zip(v, p):
                w.writerow([t, f"{a:g}", f"{b:.12g}"])
    rng = np.random.default_rng(7)
    speeds = 6.5 / 0.886226925 * rng.weibull(2.0, 8760)
    cols = {"wind_speed_ms": speeds}
    for t, (v, p) in curves.items():
        pc = pd.DataFrame({"wind_speed": v, "value": p * 1000.0})
        power_w = power_output.power_curve(pd.Series(speeds), pc["wind_speed"], pc["value"],
                                           density_correction=False)
        cols[t] = np.asarray(power_w) / 1000.0
    ref = ROOT / "tests/data/der/windpowerlib_power.csv"
    pd.DataFrame(cols).to_csv(ref, index=False, float_format="%.12g")
    print(f"wrote {out} and {ref} (windpowerlib {windpowerlib.__version__})")


if __name__ == "__main__":
    main()
