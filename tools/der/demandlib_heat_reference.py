"""demandlib's BDEW heat load profiles as the reference for gridsim's heat
demand (tests/heat_model.rs).

Writes tests/data/der/demandlib_heat.csv: an hourly outdoor temperature for
2017 (a seeded synthetic series: seasonal and diurnal cycles with
multi-day weather anomalies, so every temperature class of the hour factors
is visited) and demandlib 0.2.2's HeatBuilding profiles for it — EFH and MFH
(building class 3) and GHD, sheltered sites, hot water included, no
holidays — each for 1000 MWh a year.

Never edit the output by hand; rerun:
    /tmp/refvenv/bin/python tools/der/demandlib_heat_reference.py
"""
import pathlib

import demandlib
import numpy as np
import pandas as pd
from demandlib import bdew

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROFILES = [("EFH", 3), ("MFH", 3), ("GHD", 0)]


def temperature(index):
    rng = np.random.default_rng(2017)
    hours = np.arange(len(index))
    day = hours / 24.0
    seasonal = 9.5 - 10.0 * np.cos(2 * np.pi * (day + 10) / 365)
    diurnal = -4.0 * np.cos(2 * np.pi * ((hours % 24) - 3) / 24)
    anomaly = np.zeros(len(index))
    rho = np.exp(-1 / (4 * 24))
    for k in range(1, len(index)):
        anomaly[k] = rho * anomaly[k - 1] + np.sqrt(1 - rho**2) * rng.normal()
    return seasonal + diurnal + 5.0 * anomaly


def main():
    index = pd.date_range("2017-01-01", periods=8760, freq="h")
    temp = pd.Series(temperature(index), index=index)
    out = pd.DataFrame({"temperature_c": temp.values}, index=index)
    for code, cls in PROFILES:
        hb = bdew.HeatBuilding(
            index,
            temperature=temp,
            shlp_type=code,
            building_class=cls,
            wind_class=0,
            annual_heat_demand=1000.0,
            name=code,
            ww_incl=True,
        )
        out[code] = hb.get_bdew_profile().values
    path = ROOT / "tests/data/der/demandlib_heat.csv"
    out.index.name = "time"
    out.to_csv(path, float_format="%.9g")
    print(f"wrote {path} (demandlib {demandlib.__version__}; sums "
          + ", ".join(f"{c} {out[c].sum():.2f}" for c, _ in PROFILES) + ")")


if __name__ == "__main__":
    main()
