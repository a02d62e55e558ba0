#!/usr/bin/env python3
"""Check esm-embed's MessagePack output (tests/t5000-esm-embed.sh).

  golden_check.py golden GOLDEN.safetensors OUT.rec WHAT [--tol T] [--n N]
      WHAT: hidden.K  emb (f32[*,H]) = golden NAME/hidden.K rows 1..L
            mean      emb = golden NAME/mean
            max       emb = max over rows 1..L of the last hidden layer
            cls       emb = row 0 of the last hidden layer
            logits    field logits = golden NAME/logits (all rows)
      NAME is the record's id.  --n: records expected (default: all
      sequences of the golden file).
  golden_check.py same A.rec B.rec FIELD [--tol T] [--n N]
      the records of A and B with the same id have FIELD equal within T
      (relative to the largest |value| of B's tensor); T = 0: bit equal.
  golden_check.py f16 F32.rec F16.rec
      F16's emb is F32's emb rounded to float16 (bit equal).
  golden_check.py field OUT.rec FIELD
      prints "id<TAB>value" per record (str/int/nil fields).

Relative error of a tensor: max|a - b| / max|b|.  Prints one line per
tensor; exits 1 when one is over the tolerance or records are missing.
"""
import sys

import msgpack
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from safetensors_np import read_safetensors  # noqa: E402


def parse_type(t):
    """'f32[*,64]' -> ('f32', True, 64); 'str' -> ('str', False, 0)."""
    if "[" not in t:
        return t, False, 0
    base, dims = t[:-1].split("[")
    dims = dims.split(",")
    return base, len(dims) == 2, int(dims[-1])


def read_records(path):
    """The records of a MessagePack stream as dicts of numpy arrays."""
    recs = []
    fields = None
    ended = True
    with open(path, "rb") as f:
        for obj in msgpack.Unpacker(f, raw=False):
            if isinstance(obj, dict):
                if "plm" in obj:
                    fields = [(n, parse_type(t)) for n, t in obj["fields"]]
                    ended = False
                elif "end" in obj:
                    ended = True
                continue
            r = {}
            for (name, (base, mat, dim)), v in zip(fields, obj):
                if v is None or base in ("str", "int", "float", "bool"):
                    r[name] = v
                    continue
                dt = {"f32": "<f4", "f16": "<f2"}[base]
                a = np.frombuffer(v, dt)
                r[name] = a.reshape(-1, dim) if mat else a
            recs.append(r)
    if not ended:
        sys.exit("%s: no trailer" % path)
    return recs


def relerr(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    m = np.abs(b).max()
    return float(np.abs(a - b).max() / (m if m > 0 else 1.0))


def opts(argv):
    tol, n = 1e-5, None
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--tol":
            tol = float(argv[i + 1])
            i += 2
        elif argv[i] == "--n":
            n = int(argv[i + 1])
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, tol, n


def golden(argv):
    (gpath, opath, what), tol, n = opts(argv)
    g = read_safetensors(gpath)
    names = sorted({k.split("/")[0] for k in g})
    recs = read_records(opath)
    last = max(int(k.rsplit(".", 1)[1]) for k in g if "/hidden." in k)
    bad = 0
    for r in recs:
        name = r["id"]
        if what.startswith("hidden."):
            want = g[name + "/" + what][1:-1]
            got = r["emb"]
        elif what == "mean":
            want, got = g[name + "/mean"], r["emb"]
        elif what == "max":
            want = g["%s/hidden.%d" % (name, last)][1:-1].max(axis=0)
            got = r["emb"]
        elif what == "cls":
            want = g["%s/hidden.%d" % (name, last)][0]
            got = r["emb"]
        elif what == "logits":
            want, got = g[name + "/logits"], r["logits"]
        else:
            sys.exit("unknown check " + what)
        e = relerr(got, want)
        ok = e <= tol
        bad += not ok
        print("%s %s %s rel %.3g" % ("ok" if ok else "BAD", name, what, e))
    want_n = len(names) if n is None else n
    if len(recs) != want_n:
        print("BAD: %d records, expected %d" % (len(recs), want_n))
        bad += 1
    return 1 if bad else 0


def same(argv):
    (apath, bpath, field), tol, n = opts(argv)
    a = {r["id"]: r for r in read_records(apath)}
    b = {r["id"]: r for r in read_records(bpath)}
    bad = 0
    if set(a) != set(b) or (n is not None and len(a) != n):
        print("BAD: ids differ: %s vs %s" % (sorted(a), sorted(b)))
        bad += 1
    for k in sorted(set(a) & set(b)):
        x, y = a[k][field], b[k][field]
        if tol == 0:
            e = 0.0 if x.shape == y.shape and x.tobytes() == y.tobytes() \
                else float("inf")
        else:
            e = relerr(x, y)
        ok = e <= tol
        bad += not ok
        print("%s %s %s rel %.3g" % ("ok" if ok else "BAD", k, field, e))
    return 1 if bad else 0


def f16(argv):
    a = read_records(argv[0])
    b = read_records(argv[1])
    bad = len(a) != len(b) or not a
    for x, y in zip(a, b):
        want = x["emb"].astype(np.float16)
        ok = x["id"] == y["id"] and y["emb"].dtype == np.float16 and \
            want.tobytes() == y["emb"].tobytes()
        bad += not ok
        print("%s %s" % ("ok" if ok else "BAD", x["id"]))
    return 1 if bad else 0


def field(argv):
    for r in read_records(argv[0]):
        v = r[argv[1]]
        print("%s\t%s" % (r["id"], "nil" if v is None else v))
    return 0


if __name__ == "__main__":
    cmd = {"golden": golden, "same": same, "f16": f16, "field": field}
    sys.exit(cmd[sys.argv[1]](sys.argv[2:]))
