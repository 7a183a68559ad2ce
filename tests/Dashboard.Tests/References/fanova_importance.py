"""Optuna 3.1's fANOVA importance of a table of finished trials: the independent reference for the dashboard's.

Usage: fanova_importance.py TABLE.csv
The table is the shape of bench/search-table.csv: an optional '# metric NAME maximize|minimize' line, a header of
parameter names then the metric's name last, one row per finished trial (numbers only). Every parameter becomes a
FloatDistribution over its observed range (Optuna's fANOVA does not log-transform). Prints one JSON object,
parameter -> importance (Optuna's normalised shares), averaged over seeds 0..4 of the evaluator's random forest.
"""
import csv
import json
import sys

import optuna
from optuna.distributions import FloatDistribution
from optuna.importance import FanovaImportanceEvaluator, get_param_importances

optuna.logging.set_verbosity(optuna.logging.WARNING)

with open(sys.argv[1]) as f:
    lines = f.read().splitlines()
direction = "maximize"
if lines[0].startswith("#"):
    direction = "maximize" if lines[0].split()[-1] == "maximize" else "minimize"
    lines = lines[1:]
rows = list(csv.DictReader(lines))
names = list(rows[0].keys())
params, metric = names[:-1], names[-1]
dists = {p: FloatDistribution(min(float(r[p]) for r in rows), max(float(r[p]) for r in rows)) for p in params}
params = [p for p in params if dists[p].low < dists[p].high]

study = optuna.create_study(direction=direction)
for r in rows:
    study.add_trial(optuna.trial.create_trial(
        params={p: float(r[p]) for p in params}, distributions={p: dists[p] for p in params}, value=float(r[metric])))

seeds = range(5)
total = {p: 0.0 for p in params}
for seed in seeds:
    for p, v in get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed)).items():
        total[p] += v / len(seeds)
print(json.dumps(dict(sorted(total.items(), key=lambda kv: -kv[1]))))
