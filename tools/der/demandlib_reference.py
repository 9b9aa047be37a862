"""BDEW standard load profiles for gridsim's load shapes, and demandlib's
profiles as the test reference.

1. assets/loads/bdew_slp.csv: the BDEW (VDEW 1999) standard load profiles
   H0, G0 and L0, one quarter-hourly day per season (winter, summer,
   transition) and day type (workday, saturday, sunday), taken as data from
   demandlib 0.2.2's bdew_data/selp_series.csv.
2. tests/data/der/demandlib_slp.csv: demandlib's ElecSlp(2019) profiles
   h0_dyn, g0 and l0 (no holidays), 15-minute, for tests/load_shapes.rs.

Never edit either output by hand; rerun:
    /tmp/refvenv/bin/python tools/der/demandlib_reference.py
"""
import pathlib

import demandlib
import pandas as pd
from demandlib import bdew

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROFILES = ["h0", "g0", "l0"]
DAYS = {"workday": 1, "saturday": 6, "sunday": 7}


def main():
    src = pathlib.Path(demandlib.__file__).parent / "bdew" / "bdew_data" / "selp_series.csv"
    series = pd.read_csv(src, index_col=0, parse_dates=True)
    rows = []
    for season in ["winter", "summer", "transition"]:
        for day, code in DAYS.items():
            sel = series[(series["period"] == season) & (series["weekday"] == code)]
            first = sel.index[0].normalize()
            one_day = sel.loc[first:first + pd.Timedelta(minutes=1425)]
            assert len(one_day) == 96, (season, day, len(one_day))
            for q in range(96):
                rows.append([season, day, q] + [one_day[p].iloc[q] for p in PROFILES])
    out = ROOT / "assets/loads/bdew_slp.csv"
    pd.DataFrame(rows, columns=["season", "day", "quarter"] + PROFILES).to_csv(
        out, index=False, float_format="%.6f")
    slp = bdew.ElecSlp(2019)
    ref = slp.get_profiles("h0_dyn", "g0", "l0")
    path = ROOT / "tests/data/der/demandlib_slp.csv"
    ref.to_csv(path, float_format="%.9g")
    print(f"wrote {out} and {path} (demandlib {demandlib.__version__}, {len(ref)} steps)")


if __name__ == "__main__":
    main()
