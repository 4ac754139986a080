#!/usr/bin/env python3
"""Synthetic respondents for a sortition: `respondents.py DIR N PANEL` writes DIR/respondents.csv
(N people: a name, a contact, five categories with realistic shares, a household for some)
and DIR/quotas.csv (each value's share of PANEL, plus or minus 20 %). Used by make demo and
tests/e2e/sortition.sh; a real assembly brings its own answers and census quotas."""
import random
import sys

CATEGORIES = {
    "age": [("16-24", 12), ("25-34", 17), ("35-44", 17), ("45-54", 16), ("55-64", 17), ("65+", 21)],
    "gender": [("female", 49), ("male", 50), ("other", 1)],
    "region": [("north", 14), ("central", 13), ("south", 11), ("east", 12), ("west", 10),
               ("islands", 4), ("capital", 36)],
    "education": [("basic", 30), ("secondary", 35), ("tertiary", 35)],
    "occupation": [("student", 10), ("employed", 50), ("self-employed", 12), ("retired", 18),
                   ("other", 10)],
}


def main():
    out, n, panel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(n)  # the same people for the same N
    with open(out + "/quotas.csv", "w") as f:
        f.write("category,value,min,max\n")
        for cat, values in CATEGORIES.items():
            for value, share in values:
                e = panel * share / 100
                f.write(f"{cat},{value},{int(e * 0.8)},{int(e * 1.2) + 1}\n")
    with open(out + "/respondents.csv", "w") as f:
        f.write("name,contact," + ",".join(CATEGORIES) + ",household\n")
        for i in range(n):
            vals = [rng.choices([v for v, _ in vs], [s for _, s in vs])[0] for vs in CATEGORIES.values()]
            household = f"street {i // 3}" if i % 7 < 2 else ""
            f.write(f"Person {i},+8869{i:08d}," + ",".join(vals) + f",{household}\n")


if __name__ == "__main__":
    main()
