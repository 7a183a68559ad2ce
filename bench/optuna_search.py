#!/usr/bin/python3
"""Optuna's side of `orchestrator bench search` (Debian's python3-optuna 3.1, run with /usr/bin/python3).

  optuna_search.py search TABLE.csv BUDGET SEEDS   -> JSON: per method, the metric of each trial of each search
  optuna_search.py latency HISTORY SUGGESTIONS     -> ms per TPESampler suggestion with HISTORY finished trials

The table is the one the C# side reads: a '# metric NAME maximize|minimize' line, a CSV header of the parameters
and the metric, one row per trained trial. Every search gets BUDGET distinct trials: a suggestion of a point
already tried is told its known value (Optuna learns it again) and does not count, as the sweep grain draws
again; a search stops after 3 x BUDGET asks (TPE that keeps proposing tried points has converged).
"""
import csv
import json
import math
import random
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def load(path):
    with open(path, newline="") as f:
        first = f.readline().split()
        metric, goal = first[2], (first[3] if len(first) > 3 else "minimize")
        reader = csv.reader(line for line in f if line.strip())
        header = next(reader)
        rows = {tuple(r[:-1]): float(r[-1]) for r in reader}
    params = header[:-1]
    values = []
    for i, _ in enumerate(params):
        column = sorted({k[i] for k in rows}, key=lambda v: float(v))
        values.append(column)
    return params, values, rows, goal == "maximize"


def search(path, budget, seeds, ordinal):
    params, values, rows, maximize = load(path)
    runs = []
    for seed in range(seeds):
        study = optuna.create_study(direction="maximize" if maximize else "minimize",
                                    sampler=optuna.samplers.TPESampler(seed=seed))
        seen, metrics, asks = {}, [], 0
        while len(metrics) < budget and asks < budget * 3:
            asks += 1
            trial = study.ask()
            if ordinal:
                key = tuple(values[i][trial.suggest_int(p, 0, len(values[i]) - 1)] for i, p in enumerate(params))
            else:
                key = tuple(trial.suggest_categorical(p, values[i]) for i, p in enumerate(params))
            value = rows[key]
            study.tell(trial, value)
            if key in seen:
                continue
            seen[key] = value
            metrics.append(value)
        runs.append(metrics)
    return runs


def latency(history, suggestions):
    dists = {
        "lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
        "rank": optuna.distributions.IntDistribution(1, 64),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
        "bias": optuna.distributions.CategoricalDistribution(["none", "all", "lora_only"]),
    }
    rng = random.Random(42)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    for _ in range(history):
        p = {"lr": math.exp(rng.uniform(math.log(1e-4), math.log(1e-1))), "rank": rng.randint(1, 64),
             "dropout": rng.uniform(0, 0.5), "bias": rng.choice(["none", "all", "lora_only"])}
        value = -(math.log10(p["lr"]) + 2) ** 2 - 0.01 * abs(p["rank"] - 16) - p["dropout"]
        study.add_trial(optuna.trial.create_trial(params=p, distributions=dists, value=value))
    study.ask(dists)  # warm up
    start = time.perf_counter()
    for _ in range(suggestions):
        study.ask(dists)  # samples every parameter: the TPE suggestion
    return (time.perf_counter() - start) * 1000 / suggestions


def main(argv):
    if len(argv) == 5 and argv[1] == "search":
        path, budget, seeds = argv[2], int(argv[3]), int(argv[4])
        print(json.dumps([
            {"method": "optuna tpe (categorical)", "runs": search(path, budget, seeds, ordinal=False)},
            {"method": "optuna tpe (int index)", "runs": search(path, budget, seeds, ordinal=True)},
        ]))
    elif len(argv) == 4 and argv[1] == "latency":
        print(f"{latency(int(argv[2]), int(argv[3])):.4f}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
