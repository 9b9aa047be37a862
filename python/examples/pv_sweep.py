# %% [markdown]
# # PV hosting at one bus of the IEEE 33-bus feeder
#
# Sweep the size of a PV system at bus 18 (the far end of the main feeder)
# over a summer week and plot the highest bus voltage of each run. Run as a
# script (`python pv_sweep.py [plot.png]`) or cell by cell in a notebook.

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import gridsim

ROOT = Path(__file__).resolve().parents[2]
network = ROOT / "networks/ieee33.toml"

# %%
# The study as a dict: the schema of gridsim's scenario files.
def study(kwp: float) -> dict:
    return {
        "network": str(network),
        "network_load_class": "residential",
        "period": {"start": "2025-06-16T00:00:00", "step_minutes": 15, "steps": 7 * 96},
        "site": {"latitude": 51.3, "longitude": 9.5, "utc_offset_h": 1.0},
        "pv": [{"name": "pv-18", "bus": 18, "kwp": kwp}] if kwp > 0 else [],
    }


sizes_kwp = [0, 500, 1000, 1500, 2000, 2500, 3000]
vmax = []
for kwp in sizes_kwp:
    res = gridsim.run(study(kwp), threads=1)
    vmax.append(float(res.kpis.loc["base", "max_vm_pu"]))
    print(f"{kwp:5.0f} kWp at bus 18: highest voltage {vmax[-1]:.4f} p.u.")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(sizes_kwp, vmax, marker="o")
ax.axhline(1.05, color="grey", linestyle="--", label="upper limit 1.05 p.u.")
ax.set_xlabel("PV at bus 18 (kWp)")
ax.set_ylabel("highest bus voltage over the week (p.u.)")
ax.set_title("IEEE 33-bus feeder, a summer week")
ax.legend()
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "pv_sweep.png"
fig.savefig(out, dpi=120)
print("wrote", out)
