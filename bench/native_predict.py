"""Native XGBoost scoring the same model and rows as `npm run bench:inference`: the reference for its batch table.

usage: /usr/bin/python3 bench/native_predict.py <spec.json>
spec: model (the platform's model file, XGBoost's legacy binary format), rows (float32 row-major matrix, NaN =
missing: the matrix the platform's preprocess made), features, explain_rows (pred_contribs runs on the first these
rows: exact TreeSHAP costs milliseconds a row), check (optional: float64 margins of the first rows as
the platform computed them) and check_shap (optional: float64 SHAP values, rows × (features + 1), of the first rows).
Times DMatrix construction, `predict` and `predict(pred_contribs=True)` on one thread and on two. Prints one JSON object.
"""
import json
import resource
import sys
import time

import numpy as np
import xgboost as xgb

spec = json.load(open(sys.argv[1]))
F = spec["features"]
X = np.fromfile(spec["rows"], dtype=np.float32).reshape(-1, F)
booster = xgb.Booster()
booster.load_model(spec["model"])
out = {"xgboost": xgb.__version__, "rows": int(X.shape[0]), "features": F, "trees": len(booster.get_dump()), "runs": []}
for threads in spec.get("threads", [1, 2]):
    booster.set_param({"nthread": threads})
    t0 = time.perf_counter()
    d = xgb.DMatrix(X, missing=np.nan, nthread=threads)
    t1 = time.perf_counter()
    margin = booster.predict(d, output_margin=True)
    t2 = time.perf_counter()
    e = xgb.DMatrix(X[: spec["explain_rows"]], missing=np.nan, nthread=threads)
    t3 = time.perf_counter()
    contribs = booster.predict(e, pred_contribs=True)
    t4 = time.perf_counter()
    run = {"threads": threads, "dmatrix_s": t1 - t0, "predict_s": t2 - t1, "pred_contribs_s": t4 - t3, "explain_rows": int(e.num_row())}
    if spec.get("check"):
        ours = np.fromfile(spec["check"], dtype=np.float64)
        run["max_margin_diff"] = float(np.max(np.abs(margin[: len(ours)] - ours)))
    if spec.get("check_shap"):
        ours = np.fromfile(spec["check_shap"], dtype=np.float64).reshape(-1, F + 1)
        run["max_shap_diff"] = float(np.max(np.abs(contribs[: len(ours)] - ours)))
    out["runs"].append(run)
    del contribs
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
