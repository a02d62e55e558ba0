#!/usr/bin/env python3
"""pairs.tsv: protein pairs and the best local alignment score Biopython's
PairwiseAligner gives them (BLOSUM62, a gap of g residues costs 11 + g),
the oracle of t-align.  Pairs: random sequences (seed 7) and mutated,
gapped copies, 5 to 300 residues, with some X and lower case."""
import random
from Bio import Align
from Bio.Align import substitution_matrices

AA = "ACDEFGHIKLMNPQRSTVWY"
rng = random.Random(7)
al = Align.PairwiseAligner()
al.mode = "local"
al.substitution_matrix = substitution_matrices.load("BLOSUM62")
al.open_gap_score = -12
al.extend_gap_score = -1


def mutate(s):
    out = []
    for c in s:
        r = rng.random()
        if r < 0.25:
            out.append(rng.choice(AA))
        elif r < 0.29:
            continue
        elif r < 0.33:
            out.append(c + "".join(rng.choice(AA) for _ in range(rng.randint(1, 4))))
        else:
            out.append(c)
    return "".join(out) or "A"


print("a\tb\tscore")
for i in range(120):
    a = "".join(rng.choice(AA) for _ in range(rng.randint(5, 300)))
    if i % 10 == 3:
        a = a[:3] + "X" + a[4:]
    b = mutate(a) if i % 3 else "".join(rng.choice(AA) for _ in range(rng.randint(5, 300)))
    if i % 7 == 5:
        b = b.lower()
    # Biopython scores letters as given: upper case for it, as plmkit
    # folds case
    print(f"{a}\t{b}\t{int(al.score(a.upper(), b.upper()))}")
