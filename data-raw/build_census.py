"""Build ``dnamodel/data/bundled/units.csv`` and ``areas.csv`` from the shared census table.

Run from the project root, with the shared material beside it::

    python data-raw/build_census.py ../shared/data/tibet_census_2020.csv

The package never reads ``../shared``; this script is the record of how the
bundled census files were derived from it, and rerunning it must reproduce them
byte for byte (``git diff`` shows nothing).

What it does:

- keeps the 2020 population (``population``; a prefecture is a ``group`` of units) and the
  published Han share (``100 - minority share``, two decimals in percent) as a fraction with four
  decimals;
- gives every unit a stable ASCII id from its English name (the report's own
  spelling where it names the unit: ``qushui``, ``zhagyab``);
- keeps the three non-formal Lhasa zones as units of their own, as the census
  tables list them, and records in ``folded_into`` the district that other
  publications fold each into.
"""

import csv
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "dnamodel" / "data" / "bundled"

PREFECTURE_IDS = {
    "Lhasa": "lhasa",
    "Shigatse": "shigatse",
    "Qamdo": "qamdo",
    "Nyingchi": "nyingchi",
    "Shannan": "shannan",
    "Nagqu": "nagqu",
    "Ngari": "ngari",
}

# Where the report spells a unit its own way, or the English name is long.
ID_OVERRIDES = {
    "Qüxü (Qushui) County": "qushui",
    "Zhag'yab (Dragyab/Chagyab) County": "zhagyab",
    "Lhasa Economic & Technological Development Zone": "lhasa-development-zone",
    "Tibet Culture & Tourism Creative Park": "lhasa-culture-park",
    "Dagzê Industrial Park": "dagze-industrial-park",
}

# The region's published 2020 split by ethnicity, quoted in ../shared/README.md from the
# census communique; the county tables give only shares.
REGION_SPLIT = {"tibetan": "3137901", "other_minority": "66829", "han": "443370"}

# The district each non-formal zone is folded into by publications that fold them
# (see ../shared/README.md); dnamodel keeps them separate.
FOLDED_INTO = {
    "lhasa-development-zone": "doilungdeqen",
    "lhasa-culture-park": "chengguan",
    "dagze-industrial-park": "dagze",
}


def slug(name: str) -> str:
    """Return a lowercase ASCII id for a unit's English name."""
    if name in ID_OVERRIDES:
        return ID_OVERRIDES[name]
    base = name.split(" (")[0]
    for suffix in (" County", " District"):
        base = base.removesuffix(suffix)
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace("'", "")
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_name.lower()).strip("-")


def share(pct: str) -> str:
    """Return a published percentage (two decimals) as a fraction with four decimals."""
    return "" if pct == "" else f"{Decimal(pct) / 100:.4f}"


def main(census_csv: str) -> None:
    with open(census_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    areas, units = [], []
    for row in rows:
        if row["level"] == "region":
            areas.append(
                [
                    "tibet",
                    row["code"],
                    "region",
                    "",
                    row["name"],
                    row["name_zh"],
                    row["population_2020"],
                    share(row["han_pct_2020"]),
                    REGION_SPLIT["han"],
                    REGION_SPLIT["tibetan"],
                    REGION_SPLIT["other_minority"],
                ]
            )
        elif row["level"] == "prefecture":
            areas.append(
                [
                    PREFECTURE_IDS[row["prefecture"]],
                    row["code"],
                    "group",
                    "tibet",
                    row["name"],
                    row["name_zh"],
                    row["population_2020"],
                    share(row["han_pct_2020"]),
                    "",
                    "",
                    "",
                ]
            )
        else:
            unit_id = slug(row["name"])
            units.append(
                [
                    unit_id,
                    row["code"],
                    row["level"],
                    PREFECTURE_IDS[row["prefecture"]],
                    row["name"],
                    row["name_zh"],
                    row["population_2020"],
                    share(row["han_pct_2020"]),
                    row["population_2010"],
                    share(row["han_pct_2010"]),
                    FOLDED_INTO.get(unit_id, ""),
                ]
            )

    ids = [u[0] for u in units]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"duplicate unit ids: {sorted(i for i in ids if ids.count(i) > 1)}")

    with open(OUT / "areas.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "id",
                "code",
                "level",
                "parent",
                "name",
                "name_zh",
                "population",
                "han_share_2020",
                "han_population_2020",
                "tibetan_population_2020",
                "other_minority_population_2020",
            ]
        )
        writer.writerows(areas)
    with open(OUT / "units.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "id",
                "code",
                "level",
                "group",
                "name",
                "name_zh",
                "population",
                "han_share_2020",
                "population_2010",
                "han_share_2010",
                "folded_into",
            ]
        )
        writer.writerows(units)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/tibet_census_2020.csv")
