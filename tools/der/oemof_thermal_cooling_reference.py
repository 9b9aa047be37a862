"""Reference values for gridsim's chillers (tests/cooling_model.rs) from oemof.thermal.

Run from the repository root with the pinned reference venv:
    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install -r tools/der/requirements.txt
    /tmp/refvenv/bin/python tools/der/oemof_thermal_cooling_reference.py
Writes tests/data/der/cooling_reference.csv: for outdoor temperatures from 10 to 42 °C,
- absorption chillers (oemof.thermal.absorption_heatpumps_and_chillers, Kühn & Ziegler's
  characteristic equation) with the parameter sets "Kuehn" (single-effect, driving water 88 °C)
  and "Broad_02" (double-effect, 165 °C): cooling Q_E and driving heat Q_G in kW of the measured
  machine, at cooling water = max(T_out - 5, 20) + 2.5 °C and chilled water 9.5 °C (gridsim's
  documented temperatures);
- electric chillers (oemof.thermal.compression_heatpumps_and_chillers.calc_cops, mode "chiller")
  rated COP 5.5 water-cooled (sink = max(T_out - 5, 20), rated at 30 °C) and 3.0 air-cooled
  (sink = T_out, rated at 35 °C), chilled water 7 °C, sink at least 22 °C (15 K lift).
"""
import csv
from pathlib import Path

import oemof.thermal.absorption_heatpumps_and_chillers as ab
import oemof.thermal.compression_heatpumps_and_chillers as cp

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {  # oemof-thermal examples/absorption_heatpump_and_chiller/data/characteristic_parameters.csv
    "Kuehn": dict(a=2.5, e=1.8, s_E=0.42, r_E=0.9, s_G=0.51, r_G=2.0, t_hot=88.0),
    "Broad_02": dict(a=2.162, e=4.499, s_E=15.459, r_E=-911.572, s_G=10.807, r_G=-603.85, t_hot=165.0),
}


def sink_water(t):
    return max(max(t - 5.0, 20.0), 7.0 + 15.0)


def sink_air(t):
    return max(t, 7.0 + 15.0)


def grade(cop, sink):
    return cop / ((7.0 + 273.15) / (sink - 7.0))


def main():
    temps = [10.0 + 0.5 * k for k in range(65)]
    rows = []
    for name, p in PARAMS.items():
        t_cool = [max(t - 5.0, 20.0) + 2.5 for t in temps]
        ddt = ab.calc_characteristic_temp(t_hot=[p["t_hot"]], t_cool=t_cool, t_chill=[9.5],
                                          coef_a=p["a"], coef_e=p["e"], method="kuehn_and_ziegler")
        q_e = ab.calc_heat_flux(ddts=ddt, coef_s=p["s_E"], coef_r=p["r_E"], method="kuehn_and_ziegler")
        q_g = ab.calc_heat_flux(ddts=ddt, coef_s=p["s_G"], coef_r=p["r_G"], method="kuehn_and_ziegler")
        for t, d, e, g in zip(temps, ddt, q_e, q_g):
            rows.append([f"absorption-{name}", t, d, e, g])
    for name, cop, sink, rated in (("water-cooled", 5.5, sink_water, 30.0), ("air-cooled", 3.0, sink_air, 35.0)):
        cops = cp.calc_cops(mode="chiller", temp_high=[sink(t) for t in temps], temp_low=[7.0],
                            quality_grade=grade(cop, rated))
        for t, c in zip(temps, cops):
            rows.append([f"electric-{name}", t, "", c, ""])
    out = ROOT / "tests/data/der/cooling_reference.csv"
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["machine", "t_out_c", "ddt_k", "q_e_kw_or_cop", "q_g_kw"])
        for r in rows:
            w.writerow([r[0]] + [x if x == "" else repr(float(x)) for x in r[1:]])
    print("wrote", out, len(rows), "rows")


if __name__ == "__main__":
    main()
