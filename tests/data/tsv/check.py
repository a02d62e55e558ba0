"""check.py PLAIN TYPED: pandas reads the plain TSV (-T) with
pd.read_csv(PLAIN, sep='\t') and nothing else, and every value equals the
exact typed form (--typed) of the same records: bit for bit when read with
float_precision='round_trip', and within 1e-12 (relative) with pandas'
default float parser, which is not correctly rounded: pandas 1.5 reads the
shortest round-trip text of a double up to thousands of units in the last
place off when it has many digits after leading zeros ('0.000123...'; 8
ulp for 0.045454545454545456), so no text makes it exact.  Prints the row
count."""
import json
import math
import sys

import numpy as np
import pandas as pd


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s) and s[i + 1] in 'tnr\\#':
            out.append({'t': '\t', 'n': '\n', 'r': '\r'}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def typed(path):
    with open(path, encoding='utf-8', newline='\n') as f:
        lines = [l[:-1] if l.endswith('\n') else l for l in f]
    lines = [l for l in lines if not l.startswith('#plm\t') and not l.startswith('#meta\t')]
    cols = [c.rsplit(':', 1) for c in lines[0].split('\t')]
    rows = []
    for l in lines[1:]:
        cells = l.split('\t')
        row = []
        for (name, t), c in zip(cols, cells):
            if t == 'str':
                row.append(None if c == '\\N' else unescape(c))
            elif c == '':
                row.append(None)
            elif t == 'int':
                row.append(int(c))
            elif t == 'float':
                row.append(float(c))
            elif t == 'bool':
                row.append(c == 'true')
            else:
                row.append(np.array([float(x) for x in c.split(',')], dtype=np.float32))
        rows.append(row)
    return cols, rows


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b if EXACT else math.isclose(a, b, rel_tol=1e-12)


plain, ref = sys.argv[1], sys.argv[2]
cols, rows = typed(ref)
for EXACT in (False, True):
    df = pd.read_csv(plain, sep='\t', float_precision='round_trip') if EXACT \
        else pd.read_csv(plain, sep='\t')
    assert list(df.columns) == [c[0] for c in cols], (list(df.columns), cols)
    assert len(df) == len(rows), (len(df), len(rows))
    for j, (name, t) in enumerate(cols):
        for i, row in enumerate(rows):
            want, got = row[j], df.iat[i, j]
            where = '%s: record %d field %s: want %r got %r' % (plain, i + 1, name, want, got)
            isna = not isinstance(got, (str, list)) and pd.isna(got)
            if want is None or (t == 'str' and want in ('', 'NA', 'nan', 'NaN', 'null')):
                assert isna, where
            elif t == 'str':
                if isinstance(got, str):
                    assert got == want, where
                else:       # pandas reads text that looks like a number as one
                    assert same_float(float(want), float(got)), where
            elif t in ('int', 'bool'):
                assert not isna and got == want, where
            elif t == 'float':
                assert not isna and same_float(float(got), want), where
            else:
                v = np.array(json.loads(got), dtype=np.float32).reshape(-1)
                assert v.tobytes() == want.tobytes(), where

print(len(rows))
