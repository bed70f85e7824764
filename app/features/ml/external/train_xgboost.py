"""
Hot Dash external trainer: native XGBoost on the split and preprocessing the platform prepared.

Run by the platform as a plain process (engine "python") or as a Ray job (engine "ray", through Ray's Jobs REST API).
Its whole configuration is the JSON in the environment variable HD_TRAINER_CONFIG:

  input_url / input_path   the prepared data (HDML1 format below), fetched with the X-Trainer-Token header
  result_url, shap_url     POST /api/v1/train/result and /api/v1/train/shap-result
  token                    the per-job token (also sent in the body)
  train_id, preprocess_id, params (XGBoost's own names), num_boost_round, early_stopping_rounds, shap, shap_rows

HDML1: b"HDML1\\n", a little-endian uint32 header length, the header JSON, zero padding to a multiple of 4 bytes, then
float32 arrays back to back: train_x (rows_train x features, row-major, NaN = missing), train_y, valid_x, valid_y.

It trains with early stopping on the validation rows, keeps the best round, posts the model (XGBoost's JSON format)
with its own metrics, then the mean |SHAP| per original column (pred_contribs, one-hot parts summed back). Any failure
is posted as result.error and the process exits 1. Needs numpy and xgboost >= 1.4 only.
"""
import base64
import json
import os
import struct
import sys
import time
import urllib.request

import numpy as np
import xgboost as xgb


def fetch(url, token, data=None):
    headers = {"X-Trainer-Token": token}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.read()


def post(url, token, body):
    body = dict(body, token=token)
    return fetch(url, token, json.dumps(body).encode("utf-8"))


def read_input(cfg):
    if cfg.get("input_path"):
        with open(cfg["input_path"], "rb") as f:
            raw = f.read()
    else:
        raw = fetch(cfg["input_url"], cfg["token"])
    if raw[:6] != b"HDML1\n":
        raise ValueError("input: not an HDML1 file")
    (n,) = struct.unpack("<I", raw[6:10])
    header = json.loads(raw[10 : 10 + n].decode("utf-8"))
    at = 10 + n
    at += (-at) % 4
    f = len(header["features"])
    arrays = {}
    for name, count in (("train_x", header["rows_train"] * f), ("train_y", header["rows_train"]), ("valid_x", header["rows_valid"] * f), ("valid_y", header["rows_valid"])):
        arrays[name] = np.frombuffer(raw, dtype="<f4", count=count, offset=at)
        at += 4 * count
    arrays["train_x"] = arrays["train_x"].reshape(header["rows_train"], f)
    arrays["valid_x"] = arrays["valid_x"].reshape(header["rows_valid"], f)
    return header, arrays


def metrics(objective, y, out):
    m = {}
    if objective == "binary:logistic":
        p = np.clip(out, 1e-15, 1 - 1e-15)
        m["accuracy"] = float(np.mean((out >= 0.5) == (y == 1)))
        m["log_loss"] = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        # ROC AUC by the rank statistic (average ranks for ties).
        order = np.argsort(out, kind="mergesort")
        ranks = np.empty(len(out))
        s = out[order]
        i = 0
        while i < len(s):
            j = i
            while j + 1 < len(s) and s[j + 1] == s[i]:
                j += 1
            ranks[order[i : j + 1]] = (i + j) / 2 + 1
            i = j + 1
        pos = float(np.sum(y == 1))
        neg = len(y) - pos
        if pos and neg:
            m["roc_auc"] = float((np.sum(ranks[y == 1]) - pos * (pos + 1) / 2) / (pos * neg))
    elif objective.startswith("multi:"):
        m["accuracy"] = float(np.mean(np.argmax(out, axis=1) == y))
        p = np.clip(out[np.arange(len(y)), y.astype(int)], 1e-15, 1)
        m["log_loss"] = float(-np.mean(np.log(p)))
    else:
        r = y - out
        m["rmse"] = float(np.sqrt(np.mean(r * r)))
        m["mae"] = float(np.mean(np.abs(r)))
        tss = float(np.sum((y - np.mean(y)) ** 2))
        if tss > 0:
            m["r2"] = float(1 - np.sum(r * r) / tss)
    return m


def importance(model, header, x):
    rows = min(len(x), int(header.get("shap_rows", 2000)))
    idx = [int(i * len(x) / rows) for i in range(rows)] if rows else []
    sample = x[idx]
    contribs = model.predict(xgb.DMatrix(sample, missing=np.nan), pred_contribs=True)
    if contribs.ndim == 2:
        contribs = contribs[:, None, :]
    columns = header["feature_columns"]
    names = list(dict.fromkeys(columns))
    owner = np.array([names.index(c) for c in columns])
    totals = np.zeros(len(names))
    for g in range(contribs.shape[1]):
        per = np.zeros((rows, len(names)))
        np.add.at(per.T, owner, contribs[:, g, : len(columns)].T)
        totals += np.abs(per).sum(axis=0)
    mean = totals / max(rows, 1)
    s = float(mean.sum())
    return {n: (float(v) / s if s > 0 else 0.0) for n, v in zip(names, mean)}


def main():
    cfg = json.loads(os.environ["HD_TRAINER_CONFIG"])
    token = cfg["token"]
    started = time.time()
    try:
        header, a = read_input(cfg)
        params = dict(cfg["params"])
        params.setdefault("nthread", int(os.environ.get("HD_TRAINER_THREADS", "1")))
        dtrain = xgb.DMatrix(a["train_x"], label=a["train_y"], missing=np.nan)
        dvalid = xgb.DMatrix(a["valid_x"], label=a["valid_y"], missing=np.nan)
        model = xgb.train(
            params,
            dtrain,
            num_boost_round=int(cfg["num_boost_round"]),
            evals=[(dvalid, "validation")],
            early_stopping_rounds=int(cfg["early_stopping_rounds"]),
            verbose_eval=False,
        )
        best = int(getattr(model, "best_iteration", model.num_boosted_rounds() - 1))
        model = model[: best + 1]
        out = model.predict(dvalid)
        raw = bytes(model.save_raw(raw_format="json"))
        post(
            cfg["result_url"],
            token,
            {
                "train_id": cfg["train_id"],
                "preprocess_id": cfg.get("preprocess_id"),
                "result": {
                    "metrics": metrics(params["objective"], a["valid_y"], out),
                    "checkpoint": None,
                    "error": None,
                    "path": None,
                    "model_base64": base64.b64encode(raw).decode("ascii"),
                    "model_format": "xgboost-json",
                    "best_iteration": best,
                    "duration_ms": int((time.time() - started) * 1000),
                },
            },
        )
        if cfg.get("shap"):
            post(cfg["shap_url"], token, {"training_id": cfg["train_id"], "result": importance(model, header, a["valid_x"])})
    except Exception as e:  # noqa: BLE001 - every failure goes back to the platform
        try:
            post(cfg["result_url"], token, {"train_id": cfg["train_id"], "result": {"metrics": {}, "error": f"{type(e).__name__}: {e}"[:3900]}})
        finally:
            print(f"train_xgboost: {type(e).__name__}: {e}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
