"""Protected totals: the cell-key method applied to a block's group totals (metrics.md §7.2–§7.5).

A block's totals (:class:`~fitapp.scoring.indicators.BlockTotals`) hold
every count with the sum of its records' keys beside it.
:func:`shown_totals` turns them into the figures a reader may see, in the
*shown* layout below: each count perturbed with its own cell key, each sum a
mean is made of perturbed with the cell key + 0.5 of the records averaged,
and the exact inputs of the effect size's SD (which metrics.md §7.4 keeps
exact). With no table the shown totals are the exact ones, so exact and
protected figures come out of one path (:mod:`fitapp.scoring.figures`).

Shown totals of disjoint blocks add up column by column
(:func:`~fitapp.scoring.indicators.merged_totals`): that is how a total over
units a user chooses is formed from the protected unit figures (§7.5).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fitapp.scoring.ckm import KEY_MODULUS, PTable
from fitapp.scoring.indicators import (
    E_DAYS,
    E_EPISODES,
    E_SESSIONS,
    E_SRS,
    E_SRS_TOTAL,
    EPISODE_COUNTS,
    EPISODE_KEYS,
    P_PAIRED,
    P_SUM_D,
    P_SUM_F,
    P_SUM_F2,
    PERSON_COUNTS,
    PERSON_KEYS,
    BlockTotals,
    merged_totals,
)

# Shown person totals: the PERSON_COUNTS counts (layout P_* of indicators), then the sums of
# F and d over the paired persons in tenths (perturbed), then the exact number of paired
# persons, sum of F (tenths) and sum of F² (hundredths), for the SD of F.
S_SUM_F, S_SUM_D, S_EXACT_PAIRED, S_EXACT_SUM_F, S_EXACT_SUM_F2 = range(PERSON_COUNTS, PERSON_COUNTS + 5)
SHOWN_PERSON_WIDTH = PERSON_COUNTS + 5
# Shown episode totals: the EPISODE_COUNTS counts, then the sums of sessions and days over the
# episodes and of the SRS/CSRS totals (tenths) over the ratings: the first columns of the facts.
SHOWN_EPISODE_WIDTH = E_SRS_TOTAL + 1

# metrics.md §7.4: the scale s of each perturbed sum, in the unit the sum is kept in.
INTAKE_AND_CHANGE_SCALE = 20  # 2 points, sums in tenths
SESSIONS_SCALE = 1  # 1 session
DAYS_SCALE = 7  # 7 days
SRS_SCALE = 20  # 2 points, sums in tenths


@dataclass(frozen=True)
class Protection:
    """How published figures are protected: the perturbation table and the display threshold (§7.3–§7.4)."""

    table: PTable
    threshold: int

    @property
    def id(self) -> str:
        """What the report file's ``protection`` column says (interchange.md)."""
        return self.table.id


def cell_key(key_sum: int) -> int:
    """The cell key of a count from the sum of its records' keys (metrics.md §7.2), as an integer below 10^9."""
    return key_sum % KEY_MODULUS


def shown_totals(totals: BlockTotals, table: PTable | None) -> BlockTotals:
    """The shown totals of every group of a block: protected with ``table``, exact without one."""
    person = _protected_person if table is not None else _exact_person
    episode = _protected_episode if table is not None else _exact_episode
    return BlockTotals(
        {b: {g: person(t, table) for g, t in groups.items()} for b, groups in totals.persons.items()},
        {b: {g: episode(t, table) for g, t in groups.items()} for b, groups in totals.episodes.items()},
    )


def _exact_person(totals: list[int], _table: PTable | None) -> list[int]:
    return [*totals[:PERSON_COUNTS], totals[P_SUM_F], totals[P_SUM_D],
            totals[P_PAIRED], totals[P_SUM_F], totals[P_SUM_F2]]


def _exact_episode(totals: list[int], _table: PTable | None) -> list[int]:
    return totals[:SHOWN_EPISODE_WIDTH]


def _protected_person(totals: list[int], table: PTable) -> list[int]:
    perturb = table.perturb
    counts = [perturb(totals[c], totals[PERSON_KEYS + c] % KEY_MODULUS) for c in range(PERSON_COUNTS)]
    shift = INTAKE_AND_CHANGE_SCALE * _deviation(table, totals[P_PAIRED], totals[PERSON_KEYS + P_PAIRED])
    return [*counts, totals[P_SUM_F] + shift, totals[P_SUM_D] + shift,
            totals[P_PAIRED], totals[P_SUM_F], totals[P_SUM_F2]]


def _protected_episode(totals: list[int], table: PTable) -> list[int]:
    perturb = table.perturb
    counts = [perturb(totals[c], totals[EPISODE_KEYS + c] % KEY_MODULUS) for c in range(EPISODE_COUNTS)]
    episodes = _deviation(table, totals[E_EPISODES], totals[EPISODE_KEYS + E_EPISODES])
    ratings = _deviation(table, totals[E_SRS], totals[EPISODE_KEYS + E_SRS])
    return [*counts, totals[E_SESSIONS] + SESSIONS_SCALE * episodes, totals[E_DAYS] + DAYS_SCALE * episodes,
            totals[E_SRS_TOTAL] + SRS_SCALE * ratings]


def _deviation(table: PTable, n: int, key_sum: int) -> int:
    """(j − m) for a sum over ``n`` records (metrics.md §7.4); none for no records: zero stays zero."""
    return table.deviation(key_sum % KEY_MODULUS) if n else 0


def published_totals(blocks: Sequence[BlockTotals], table: PTable | None, *, one_cell: bool) -> BlockTotals:
    """The shown totals of the union of disjoint blocks (metrics.md §7.5).

    ``one_cell``: the union is a cell of its own with its own cell keys (a
    unit, the whole organisation, a district, all of a reader's units).
    Otherwise (units a user chose) it is the sum of each block's protected
    totals, so it reveals nothing the blocks' own figures do not. Exact
    totals add up either way.
    """
    if one_cell or table is None:
        return shown_totals(merged_totals(blocks), table)
    return merged_totals([shown_totals(block, table) for block in blocks])
