"""How far above S the carried calibration path starts its origins
(`policy.calibrate_carry_stock`): `bench/replay_real.py` run with the key on, counting at
every calibration origin whose series' earlier origin left a position, per knob level, the
share of starts at least one unit above the origin's S and the mean excess (all patterns
and lead-time-demand methods pooled).

    python bench/carried_starts.py -c dev.yaml --measures cycle --holdout 1 [--as-of ...]

Takes the arguments of `bench/replay_real.py` and prints its tables, then the counts."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np

import stockplan.lead_time_demand as ltd

KNOBS = ltd.CALIBRATION_KNOB.size
seen = {"starts": 0, "kept": np.zeros(KNOBS), "above": np.zeros(KNOBS), "excess": np.zeros(KNOBS)}
path, sums = ltd._lost_sales_path, ltd.calibration_sums


def counted_path(demand, origin, stocks, lead, r, *args, **kwargs):
    """`_lost_sales_path`, counting the carried starts against the origin's S."""
    carried = args[2] if len(args) > 2 else kwargs.get("carried")
    if carried is not None and carried.shape[1] == KNOBS:
        kept = ~np.isnan(carried)
        position = np.nan_to_num(carried)
        seen["starts"] += carried.shape[0]
        seen["kept"] += kept.sum(axis=0)
        seen["above"] += (kept & (position >= stocks[0] + 1)).sum(axis=0)
        seen["excess"] += np.where(kept, np.maximum(position - stocks[0], 0), 0).sum(axis=0)
    return path(demand, origin, stocks, lead, r, *args, **kwargs)


def carried_sums(*args, **kwargs):
    """`calibration_sums` with the carried path, whatever the config says."""
    return sums(*args, **{**kwargs, "carry_stock": True})


if __name__ == "__main__":
    ltd._lost_sales_path, ltd.calibration_sums = counted_path, carried_sums
    sys.argv = ["replay_real.py", *sys.argv[1:]]
    runpy.run_path(str(Path(__file__).with_name("replay_real.py")), run_name="__main__")
    starts = max(seen["starts"], 1)
    print(f"\n## carried calibration starts: {seen['starts']} path starts\n")
    print("knob | carried share | position >= S + 1 | mean excess (units)")
    for i, level in enumerate(ltd.CALIBRATION_KNOB):
        kept = max(seen["kept"][i], 1)
        print(
            f"{level:.3f} | {seen['kept'][i] / starts:.3f} | {seen['above'][i] / kept:.3f}"
            f" | {seen['excess'][i] / kept:.1f}"
        )
