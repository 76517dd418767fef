"""Stock held by receipt day for items with a shelf life, as the replays hold it.

An item with shelf life T (`products.shelf_life_days`) and `shelf_life.sell_by_days` s can
be sold for U = round(T - s) days from its receipt: a unit received at the start of day r
is sellable on days r .. r + U - 1 and written off at the start of day r + U, before that
day's sales and backorders (with U <= 0, on the day it arrives). This is `shelf_life`'s
convention, a lot sells until the day before its sell-by date (expiry - s). Sales and
backorders take the oldest sellable units first (FIFO; with one shelf life per item also
first expiry, first out).

Series s holds lots[s, r mod W], its units received on day r of the last W = max U + 1 days
(a ring over days: a receipt W days old was written off before its slot comes round
again). Series with no shelf life, or one no shorter than the days replayed (nothing
received can expire inside them), are not held here: their stock is one number.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockplan.shelf_life import lot_sales


class ShelfStock:
    """The lots of the series with a shelf life; `rows` are their indices in the replay."""

    def __init__(self, usable_days: np.ndarray, initial_stock: np.ndarray, n_days: int):
        """`usable_days`: per series, days a unit sells from its receipt (shelf life less
        sell-by days; nan without shelf life); `initial_stock` is taken as received on
        day 0."""
        usable = np.round(np.asarray(usable_days, dtype=float))
        self.rows = np.flatnonzero(~np.isnan(usable) & (usable < n_days))
        self.usable = np.maximum(usable[self.rows], 0).astype(np.int64)
        self.width = int(self.usable.max(initial=0)) + 1
        self.lots = np.zeros((self.rows.size, self.width))
        self.lots[:, 0] = initial_stock[self.rows]
        self.units = self.lots[:, 0].copy()  # on hand per series of `rows`
        self._lot = np.arange(self.rows.size)

    def __bool__(self) -> bool:
        return bool(self.rows.size)

    def receive(self, day: int, received: np.ndarray) -> None:
        """Book `received` (per replay series) as day `day`'s receipt."""
        self.lots[:, day % self.width] += received[self.rows]
        self.units += received[self.rows]

    def expire(self, day: int) -> np.ndarray:
        """Write off the units whose age reaches U on day `day`; returns the units written
        off per series of `rows`."""
        slot = (day - self.usable) % self.width
        expired = self.lots[self._lot, slot]
        self.lots[self._lot, slot] = 0.0
        self.units -= expired
        return expired

    def unsellable(self, day: int, forecast_per_day: np.ndarray) -> np.ndarray:
        """Per series of `rows`, the units held on day `day` (before its sales) that will
        not sell before they are written off at `forecast_per_day` (per replay series), as
        `plan` counts them (`shelf_life.lot_sales`): a lot of age a has U - a selling days
        left (days to its sell-by point), the oldest sells first."""
        held = self._oldest_first(self.lots, day)
        age = np.arange(self.width - 1, -1, -1)  # the oldest slot first
        row, slot = np.nonzero(held > 0)
        lots = pl.DataFrame(
            {
                "row": row,
                "lot_qty": held[row, slot],
                "days_to_sell_by": self.usable[row] - age[slot],
                "forecast_per_day": forecast_per_day[self.rows[row]],
            }
        )
        expiring = lot_sales(lots, ["row"])["expiring_qty"].to_numpy()
        return np.bincount(row, weights=expiring, minlength=self.rows.size)

    def _oldest_first(self, held: np.ndarray, day: int) -> np.ndarray:
        """`held` (rows of `lots`) on day `day`, oldest receipt first (age width - 1 .. 0)."""
        newest = day % self.width + 1  # the ring's oldest slots follow its newest
        return np.concatenate([held[:, newest:], held[:, :newest]], axis=1)

    def take(self, day: int, taken: np.ndarray) -> None:
        """Take `taken` (per replay series, at most its stock) oldest receipt first: with
        C_k the units in the k oldest lots, lot k keeps max(C_k - taken, 0) - max(C_{k-1}
        - taken, 0). Only the series that take something are touched."""
        taking = np.flatnonzero(taken[self.rows] > 0)
        if taking.size == 0:
            return
        newest = day % self.width + 1
        held = self.lots[taking]
        lots = self._oldest_first(held, day)
        np.cumsum(lots, axis=1, out=lots)
        lots -= taken[self.rows[taking], None]
        np.maximum(lots, 0.0, out=lots)
        kept = np.diff(lots, axis=1, prepend=0.0)
        older = self.width - newest
        held[:, newest:], held[:, :newest] = kept[:, :older], kept[:, older:]
        self.lots[taking] = held
        self.units[taking] = lots[:, -1]
