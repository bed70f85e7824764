"""Native XGBoost on the bench's CSV: the reference `npm run bench:train` prints beside the platform's figures.

usage: /usr/bin/python3 bench/native_xgboost.py <spec.json>
spec: csv, target, validation (file of 0-based row indexes, one a line: the platform's own held-out rows), params
(XGBoost's names), num_boost_round, early_stopping_rounds, threads [1, 2], ours (optional: the platform's downloaded
model, scored here on the same held-out rows). Strings are one-hot coded, Yes/No and true/false flags become 0/1, blank
cells stay missing, as the platform's preprocess does. Prints one JSON object.
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

spec = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
df = pd.read_csv(spec["csv"], keep_default_na=True, na_values=[""])
FLAGS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}
y = df.pop(spec["target"]).astype(str).str.lower().map(FLAGS).astype(np.float32).to_numpy()
for c in list(df.columns):
    if c in spec.get("drop", []):
        df.pop(c)
        continue
    if df[c].dtype == object:
        lower = df[c].astype(str).str.lower()
        if set(lower.dropna().unique()) <= set(FLAGS):
            df[c] = lower.map(FLAGS)
        else:
            df = pd.concat([df.drop(columns=[c]), pd.get_dummies(df[c], prefix=c, dtype=np.float32)], axis=1)
    elif df[c].dtype == bool:
        df[c] = df[c].astype(np.float32)
X = df.to_numpy(dtype=np.float32)
read_s = time.perf_counter() - t0

valid = np.loadtxt(spec["validation"], dtype=np.int64)
mask = np.zeros(len(y), dtype=bool)
mask[valid] = True
Xtr, ytr, Xva, yva = X[~mask], y[~mask], X[mask], y[mask]

out = {"xgboost": xgb.__version__, "rows": int(len(y)), "features": int(X.shape[1]), "read_s": read_s, "runs": []}
for threads in spec["threads"]:
    params = dict(spec["params"], nthread=threads)
    t1 = time.perf_counter()
    dtrain = xgb.DMatrix(Xtr, label=ytr, missing=np.nan, nthread=threads)
    dvalid = xgb.DMatrix(Xva, label=yva, missing=np.nan, nthread=threads)
    t2 = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=spec["num_boost_round"], evals=[(dvalid, "valid")],
                        early_stopping_rounds=spec["early_stopping_rounds"], verbose_eval=False)
    t3 = time.perf_counter()
    p = booster.predict(dvalid, iteration_range=(0, booster.best_iteration + 1))
    out["runs"].append({"threads": threads, "dmatrix_s": t2 - t1, "train_s": t3 - t2, "auc": float(roc_auc_score(yva, p)),
                        "best_iteration": int(booster.best_iteration)})
if spec.get("ours"):
    b = xgb.Booster()
    b.load_model(spec["ours"])
    # Our model's features are the numeric columns in order (the bench's generated data has no strings).
    if b.num_features() == X.shape[1]:
        out["ours_auc_here"] = float(roc_auc_score(yva, b.predict(xgb.DMatrix(Xva, missing=np.nan))))
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
