"""Reference for mlp-calibrate: scikit-learn 1.2's Platt scaling
(CalibratedClassifierCV(method="sigmoid", cv="prefit")) and isotonic
regression (IsotonicRegression(out_of_bounds="clip")).

  sk_calib.py gen DIR     data sets DIR/fit-K.tsv (label, score, split=val),
                          DIR/grid.tsv (scores to calibrate), DIR/cases
  sk_calib.py cmp DIR     compares DIR/K.METHOD.ON.tsv (mlp-calibrate --apply
                          on grid.tsv) with sklearn; prints one line

The fitted feature is logit(s) (s clipped to [1e-12, 1 - 1e-12]) or the
score, handed to sklearn as the decision function of a prefit estimator.
Platt predictions must agree with CalibratedClassifierCV to 1e-5 (sklearn
stops BFGS at a gradient norm of 1e-5; the largest difference seen is
1.4e-6) and to 1e-9 with the same objective minimised to the optimum; isotonic
ones to 1e-9."""
import math
import os
import sys

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from scipy.optimize import fmin_bfgs
from scipy.special import expit, xlogy
from sklearn.isotonic import IsotonicRegression

EPS = 1e-12


def feature(s, on):
    if on == "score":
        return s
    # the C library's log, as mlp-calibrate (numpy's vectorised log may
    # differ in the last bit, which moves near-ties across 1e-15)
    s = np.clip(s, EPS, 1 - EPS)
    return np.array([math.log(v) - math.log1p(-v) for v in s])


class Prefit(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose decision function is column 0."""
    def __init__(self, on="logit"):
        self.on = on

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X):
        return feature(X[:, 0], self.on)


def platt_exact(F, y):
    """sklearn's _sigmoid_calibration (Platt's targets, its start, its
    objective and gradient), with BFGS run to a gradient of 1e-11 instead
    of 1e-5 and then polished by Newton steps (BFGS stops early on a loss
    that no longer changes in floating point)."""
    prior0 = float(np.sum(y <= 0))
    prior1 = y.shape[0] - prior0
    T = np.where(y > 0, (prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0))

    def objective(AB):
        P = expit(-(AB[0] * F + AB[1]))
        return -(xlogy(T, P) + xlogy(1.0 - T, 1.0 - P)).sum()

    def grad(AB):
        d = T - expit(-(AB[0] * F + AB[1]))
        return np.array([np.dot(d, F), np.sum(d)])

    AB0 = np.array([0.0, math.log((prior0 + 1.0) / (prior1 + 1.0))])
    AB = fmin_bfgs(objective, AB0, fprime=grad, gtol=1e-11, disp=False)
    for _ in range(5):
        P = expit(-(AB[0] * F + AB[1]))
        w = P * (1 - P)
        H = np.array([[np.dot(w, F * F), np.dot(w, F)],
                      [np.dot(w, F), w.sum()]])
        AB = AB - np.linalg.solve(H, grad(AB))
    return AB


def cases():
    rng = np.random.default_rng(7300)
    out = []
    for k in range(12):
        n = [40, 200, 1000, 57][k % 4]
        prev = [0.5, 0.2, 0.05, 0.35][k % 4]
        y = (rng.random(n) < prev).astype(int)
        temp = [3.0, 0.5, 1.0, 2.0][(k // 4) % 4]
        z = rng.normal(-1 + 2 * y, 1.0) * temp + (0.7 if k % 3 == 0 else 0)
        s = 1 / (1 + np.exp(-z))
        if k % 2 == 1:          # ties: scores on a grid of 0.01
            s = np.round(s, 2)
        if k == 5:              # exact 0 and 1 (clipped for the logit)
            s[:3] = 0.0
            s[3:6] = 1.0
        if k == 7:              # runs within 1e-15 of their first value
            s[1:4] = s[0] + np.array([2e-16, 4e-16, 1e-16])
        out.append((y, s))
    return out


def grid():
    return np.concatenate([np.linspace(0, 1, 201), [1e-14, 1 - 1e-14, 0.123456789]])


def gen(d):
    with open(os.path.join(d, "cases"), "w") as fp:
        for k, (y, s) in enumerate(cases()):
            with open(os.path.join(d, "fit-%d.tsv" % k), "w") as f:
                f.write("label:int\tscore:float\tsplit:str\n")
                for a, b in zip(y, s):
                    f.write("%d\t%r\tval\n" % (a, float(b)))
            fp.write("%d\n" % k)
    with open(os.path.join(d, "grid.tsv"), "w") as f:
        f.write("score:float\n")
        for b in grid():
            f.write("%r\n" % float(b))


def read_cal(path):
    out = []
    j = None
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            row = line.rstrip("\n").split("\t")
            if j is None:
                j = row.index("score_cal:float")
            else:
                out.append(float(row[j]))
    return np.array(out)


def cmp(d):
    g = grid()
    bad = checked = 0
    worst = {"platt": 0.0, "platt-exact": 0.0, "isotonic": 0.0}
    for k, (y, s) in enumerate(cases()):
        X = s.reshape(-1, 1)
        for on in ("logit", "score"):
            est = Prefit(on).fit(X, y)
            cc = CalibratedClassifierCV(est, method="sigmoid", cv="prefit")
            cc.fit(X, y)
            ref = {"platt": cc.predict_proba(g.reshape(-1, 1))[:, 1]}
            a, b = platt_exact(feature(s, on), y)
            ref["platt-exact"] = expit(-(a * feature(g, on) + b))
            ir = IsotonicRegression(out_of_bounds="clip")
            ir.fit(feature(s, on), y)
            ref["isotonic"] = ir.predict(feature(g, on))
            for method, tol in (("platt", 1e-5), ("platt-exact", 1e-9),
                                ("isotonic", 1e-9)):
                got = read_cal(os.path.join(d, "%d.%s.%s.tsv" % (
                    k, method.split("-")[0], on)))
                err = np.abs(got - ref[method])
                worst[method] = max(worst[method], float(err.max()))
                checked += len(g)
                nb = int((err > tol).sum())
                if nb:
                    print("case %d %s on %s: %d bad, max error %g"
                          % (k, method, on, nb, err.max()))
                bad += nb
    print("checked %d values in %d fits, %d bad (max error: platt %.3g, "
          "platt to the optimum %.3g, isotonic %.3g)"
          % (checked, 4 * len(cases()), bad, worst["platt"],
             worst["platt-exact"], worst["isotonic"]))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(cmp(sys.argv[2]))
