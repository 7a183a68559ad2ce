# Generates Corpus/malformed/*.yaml (run once; the files are committed). Each starts with "# expect: <fragment>".
import os
BASE = """name: corpus-case
seed: 1
task:
  model: mlp
  dataset: mnist
metric: { name: test_accuracy, goal: maximize }
method: grid
parameters:
  rank: { values: [4, 8] }
  alpha: { value: 8 }
  target_modules: { value: [l1, l2] }
  lr: { value: 1.0e-3 }
"""
def rep(old, new, base=BASE):
    assert old in base, old
    return base.replace(old, new, 1)
def add(extra, base=BASE):
    return base + extra
TB = rep("model: mlp", "model: transformer-block").replace("[l1, l2]", "[q_proj, v_proj]")
cases = [
 # --- syntax
 ("syntax-unclosed-flow", "YAML syntax error", rep("{ values: [4, 8] }", "{ values: [4, 8 }")),
 ("syntax-bad-indent", "YAML syntax error", rep("  dataset: mnist", "    dataset: mnist\n   oops: [")),
 ("syntax-tab-indent", "YAML syntax error", rep("  dataset: mnist", "\tdataset: mnist")),
 ("syntax-unclosed-quote", "YAML syntax error", rep("name: corpus-case", 'name: "corpus-case')),
 ("syntax-colon-in-plain", "YAML syntax error", rep("seed: 1", "seed: 1: 2")),
 ("syntax-unclosed-mapping", "YAML syntax error", rep("metric: { name: test_accuracy, goal: maximize }", "metric: { name: test_accuracy, goal: maximize")),
 ("syntax-stray-dash", "YAML syntax error", rep("seed: 1", "seed: 1\n- item")),
 ("syntax-undefined-alias", "aliases", add("description: *nowhere\n")),
 ("syntax-bad-escape", "YAML syntax error", rep("name: corpus-case", 'name: "corpus\\qcase"')),
 ("syntax-block-in-flow", "YAML syntax error", rep("{ values: [4, 8] }", "{ values: [4,\n- 8] }")),
 ("syntax-two-documents", "one YAML document", BASE + "---\nname: other\n"),
 ("syntax-directive-garbage", "YAML syntax error", "%YAML 9.9.9\n%YAML 1.1\n---\n" + BASE),
 ("syntax-anchor-no-value", "YAML syntax error", rep("seed: 1", "seed: &\n")),
 ("syntax-mixed-seq-map", "seed must be an integer", rep("seed: 1", "seed: 1\n  - 2")),
 # --- top level shape
 ("empty-file", "file is empty", ""),
 ("only-comments", "file is empty", "# nothing here\n# at all\n"),
 ("top-level-list", "a sweep file is a mapping", "- name: x\n- seed: 1\n"),
 ("top-level-scalar", "a sweep file is a mapping", "just some text\n"),
 ("missing-task", "missing key 'task'", rep("task:\n  model: mlp\n  dataset: mnist\n", "")),
 ("missing-metric-bayes", "method bayes needs metric", rep("method: grid", "method: bayes\nrun_cap: 5", rep("metric: { name: test_accuracy, goal: maximize }\n", ""))),
 # W&B's free-text names are slugified; a name with nothing to slugify, or a file that names nothing, is refused.
 ("name-no-letters", "has no letters or digits", rep("name: corpus-case", "name: '../..'")),
 ("name-nul", "has no letters or digits", rep("name: corpus-case", 'name: "\\0"')),
 ("metric-and-metrics", "give metric (one objective) or metrics", add("metrics: [{ name: test_loss, goal: minimize }]\n")),
 ("metrics-empty", "metrics must be a list", add("metrics: []\n", rep("metric: { name: test_accuracy, goal: maximize }\n", ""))),
 ("metrics-unknown", "unknown metric 'trainable_parameters'", add("metrics: [{ name: test_accuracy, goal: maximize }, { name: trainable_parameters, goal: minimize }]\n", rep("metric: { name: test_accuracy, goal: maximize }\n", ""))),
 ("param-alias-twice", "is given twice", rep("  lr: { value: 1.0e-3 }", "  lr: { value: 1.0e-3 }\n  learning_rate: { value: 1.0e-3 }")),
 ("param-grad-accumulation-zero", "gradient_accumulation_steps must be an integer ≥ 1, got 0", rep("  lr: { value: 1.0e-3 }", "  gradient_accumulation_steps: { value: 0 }")),
 ("dist-probabilities-sum", "probabilities must sum to 1", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: categorical, values: [0.001, 0.01], probabilities: [0.5, 0.6] }")),
 ("dist-probabilities-count", "give one per value", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { values: [0.001, 0.01], probabilities: [1.0] }")),
 ("dist-normal-sigma", "sigma must be a finite number > 0", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  dropout: { distribution: normal, mu: 0.1, sigma: 0 }")),
 ("dist-normal-min", "min has no meaning for a normal distribution", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: normal, min: 0, max: 1 }")),
 ("dist-normal-mu-outside", "dropout must be a number in [0, 1)", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  dropout: { distribution: normal, mu: -0.5, sigma: 0.1 }")),
 ("dist-int-option-continuous", "rank takes integers", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  rank: { values: [4, 8] }", "  rank: { distribution: log_uniform_values, min: 4, max: 64 }")),
 ("dist-bayes-baselines", "baselines are not supported with method bayes", BASE.replace("method: grid", "method: bayes\nrun_cap: 5\nbaselines: [full]")),
 ("hyperband-no-max-no-min", "or min_iter (W&B's form", add("early_terminate: { type: hyperband, eta: 3 }\n")),
 ("hyperband-s-and-brackets", "give s (W&B's name) or brackets", add("early_terminate: { type: hyperband, min_iter: 1, max_iter: 27, s: 2, brackets: 2 }\n")),
 ("tag-binary", "YAML tag", rep("seed: 1", "seed: !!binary AAAA")),
 ("unknown-top-key", "unknown key 'paramters' (did you mean 'parameters'?)", BASE.replace("parameters:", "paramters:")),
 ("top-level-trainer-option", "go under parameters:", rep("seed: 1", "seed: 1\nrank: 8")),
 ("unknown-top-key-transposed", "unknown key 'sede' (did you mean 'seed'?)", rep("seed: 1", "sede: 1")),
 ("unknown-top-key-far", "unknown key 'frobnicate'", add("frobnicate: 3\n")),
 ("duplicate-top-key", "given twice", add("seed: 2\n")),
 ("non-scalar-key", "keys must be plain names", add("[a, b]: 3\n")),
 # --- name
 ("name-empty", "name must be text", rep("name: corpus-case", "name:")),
 ("name-list", "name must be text", rep("name: corpus-case", "name: [a, b]")),
 # --- seed / method / caps
 ("seed-negative", "seed must be an integer ≥ 0", rep("seed: 1", "seed: -1")),
 ("seed-text", "seed must be an integer", rep("seed: 1", "seed: lucky")),
 ("seed-float", "seed must be an integer", rep("seed: 1", "seed: 1.5")),
 ("seed-huge", "too large", rep("seed: 1", "seed: 99999999999999999999999")),
 ("method-unknown", "method must be grid, random or bayes", rep("method: grid", "method: exhaustive")),
 ("run-cap-huge", "run_cap must be an integer ≤ 10000", add("run_cap: 1000000000\n")),
 ("run-cap-zero", "run_cap must be an integer ≥ 1", add("run_cap: 0\n")),
 ("run-cap-negative", "run_cap must be an integer ≥ 1", add("run_cap: -5\n")),
 ("run-cap-text", "run_cap must be an integer", add("run_cap: lots\n")),
 ("run-cap-overflow", "too large", add("run_cap: 123456789012345678901234567890\n")),
 ("parallel-zero", "parallel must be an integer ≥ 1", add("parallel: 0\n")),
 ("parallel-huge", "parallel must be an integer ≤ 256", add("parallel: 100000\n")),
 ("max-failures-negative", "max_failures must be an integer ≥ 0", add("max_failures: -1\n")),
 ("max-failures-huge", "max_failures must be an integer ≤ 100", add("max_failures: 5000\n")),
 ("baselines-unknown", "baseline must be full or base", add("baselines: [full, partial]\n")),
 ("baselines-twice", "listed twice", add("baselines: [full, full]\n")),
 ("baselines-scalar", "baselines must be a list", add("baselines: full\n")),
 # --- task
 ("task-scalar", "task must be a mapping", rep("task:\n  model: mlp\n  dataset: mnist", "task: mlp")),
 ("task-missing-model", "missing key 'task.model'", rep("  model: mlp\n", "")),
 ("task-missing-dataset", "missing key 'task.dataset'", rep("  dataset: mnist\n", "")),
 ("task-unknown-key", "unknown key 'modle' (did you mean 'model'?)", rep("  model: mlp", "  model: mlp\n  modle: mlp")),
 ("task-model-empty", "task.model must not be empty", rep("  model: mlp", "  model: '  '")),
 ("task-base-both", "exactly one of pretrain or checkpoint", rep("  dataset: mnist", "  dataset: mnist\n  base: { pretrain: { epochs: 1 }, checkpoint: x.safetensors }")),
 ("task-base-neither", "exactly one of pretrain or checkpoint", rep("  dataset: mnist", "  dataset: mnist\n  base: {}")),
 ("task-base-scalar", "task.base must be", rep("  dataset: mnist", "  dataset: mnist\n  base: pretrained")),
 ("task-pretrain-lr-zero", "pretrain lr must be a finite number > 0", rep("  dataset: mnist", "  dataset: mnist\n  base: { pretrain: { lr: 0 } }")),
 ("task-pretrain-batch-zero", "pretrain batch_size must be an integer ≥ 1", rep("  dataset: mnist", "  dataset: mnist\n  base: { pretrain: { batch_size: 0 } }")),
 ("task-pretrain-unknown", "unknown key 'epoch' (did you mean 'epochs'?)", rep("  dataset: mnist", "  dataset: mnist\n  base: { pretrain: { epoch: 3 } }")),
 ("task-pretrain-custom-model", "needs a checkpoint", rep("  model: mlp", "  model: /models/my-model").replace("  dataset: mnist", "  dataset: mnist\n  base: { pretrain: { epochs: 1 } }").replace("target_modules: { value: [l1, l2] }", "target_modules: { value: [q_proj] }")),
 ("task-checkpoint-empty", "checkpoint must be a path or URI", rep("  dataset: mnist", "  dataset: mnist\n  base: { checkpoint: '' }")),
 # --- metric
 ("metric-goal-bad", "metric.goal must be maximize or minimize", rep("goal: maximize", "goal: maximise")),
 ("metric-name-missing", "missing key 'metric.name'", rep("name: test_accuracy, ", "")),
 ("metric-scalar", "metric must be a mapping", rep("metric: { name: test_accuracy, goal: maximize }", "metric: test_accuracy")),
 ("metric-name-bad", "metric.name must be a metric name", rep("name: test_accuracy", "name: 'test accuracy!'")),
 ("metric-unknown-key", "unknown key 'direction'", rep("goal: maximize", "goal: maximize, direction: up")),
 # --- parameters: structure
 ("parameters-list", "parameters must be a mapping", rep("parameters:\n  rank: { values: [4, 8] }\n  alpha: { value: 8 }\n  target_modules: { value: [l1, l2] }\n  lr: { value: 1.0e-3 }\n", "parameters: [rank, alpha]\n")),
 ("param-unknown-typo", "unknown parameter 'rnak' (did you mean 'rank'?)", rep("  rank: { values: [4, 8] }", "  rnak: { values: [4, 8] }")),
 ("param-unknown-far", "unknown parameter 'zzzzzz'", add("  zzzzzz: { value: 1 }\n")),
 ("param-model", "model is set in task.model", add("  model: { value: mlp }\n")),
 ("param-duplicate", "is given twice", add("  rank: { value: 2 }\n")),
 ("param-bare-scalar", "parameter rank must be a mapping", rep("  rank: { values: [4, 8] }", "  rank: 8")),
 ("param-two-forms", "needs exactly one of value, values or distribution", rep("  alpha: { value: 8 }", "  alpha: { value: 8, values: [8, 16] }")),
 ("param-no-form", "needs exactly one of value, values or distribution", rep("  alpha: { value: 8 }", "  alpha: { }")),
 ("param-unknown-form-key", "unknown key 'vals'", rep("  rank: { values: [4, 8] }", "  rank: { vals: [4, 8] }")),
 ("param-empty-values", "values of rank is empty", rep("  rank: { values: [4, 8] }", "  rank: { values: [] }")),
 ("param-min-without-distribution", "min needs a distribution", rep("  alpha: { value: 8 }", "  alpha: { values: [8], min: 1 }")),
 # --- parameters: values
 ("rank-zero", "rank must be an integer ≥ 1, got 0", rep("[4, 8]", "[0, 8]")),
 ("rank-negative", "rank must be an integer ≥ 1, got -1", rep("[4, 8]", "[4, -1]")),
 ("rank-huge", "rank must be an integer ≤ 4096", rep("[4, 8]", "[4, 100000]")),
 ("rank-float", "rank must be an integer", rep("[4, 8]", "[4, 8.5]")),
 ("rank-text", "rank must be an integer", rep("[4, 8]", "[4, eight]")),
 ("rank-quoted", "quoted text", rep("[4, 8]", "[4, '8']")),
 ("rank-null", "rank must be an integer", rep("[4, 8]", "[4, ~]")),
 ("rank-list-in-list", "rank must be an integer", rep("[4, 8]", "[4, [8]]")),
 ("alpha-nan", "alpha must be a finite number > 0, got .nan", rep("  alpha: { value: 8 }", "  alpha: { value: .nan }")),
 ("alpha-inf", "alpha must be a finite number > 0, got .inf", rep("  alpha: { value: 8 }", "  alpha: { value: .inf }")),
 ("alpha-zero", "alpha must be a finite number > 0, got 0", rep("  alpha: { value: 8 }", "  alpha: { value: 0 }")),
 ("alpha-negative", "alpha must be a finite number > 0, got -16", rep("  alpha: { value: 8 }", "  alpha: { value: -16 }")),
 ("alpha-text", "alpha must be a number", rep("  alpha: { value: 8 }", "  alpha: { value: sixteen }")),
 ("lr-zero", "lr must be a finite number > 0, got 0", rep("1.0e-3 }", "0 }")),
 ("lr-negative-inf", "lr must be a finite number > 0, got -.inf", rep("1.0e-3 }", "-.inf }")),
 ("lr-bool", "lr must be a number, got true", rep("1.0e-3 }", "true }")),
 ("dropout-one", "dropout must be a number in [0, 1), got 1", add("  dropout: { value: 1 }\n")),
 ("dropout-negative", "dropout must be a number in [0, 1)", add("  dropout: { values: [0.1, -0.1] }\n")),
 ("bias-bad", "bias must be one of none, all, lora_only, got 'some'", add("  bias: { value: some }\n")),
 ("init-bad", "init must be one of kaiming, gaussian", add("  init: { value: xavier }\n")),
 ("schedule-bad", "schedule must be one of constant, linear, cosine", add("  schedule: { value: exponential }\n")),
 ("adapter-bad", "adapter must be one of lora, full, base", add("  adapter: { value: qlora }\n")),
 ("batch-size-zero", "batch_size must be an integer ≥ 1, got 0", add("  batch_size: { value: 0 }\n")),
 ("epochs-negative", "epochs must be an integer ≥ 0, got -3", add("  epochs: { value: -3 }\n")),
 ("max-steps-text", "max_steps must be an integer", add("  max_steps: { value: many }\n")),
 ("use-rslora-text", "use_rslora must be true or false", add("  use_rslora: { value: maybe }\n")),
 ("weight-decay-negative", "weight_decay must be a finite number ≥ 0", add("  weight_decay: { value: -0.1 }\n")),
 ("seq-len-zero", "seq_len must be an integer ≥ 1", add("  seq_len: { value: 0 }\n")),
 ("target-module-unknown", "unknown target module 'q_prj' for model transformer-block", TB.replace("[q_proj, v_proj]", "[q_prj, v_proj]")),
 ("target-module-unknown-mlp", "unknown target module 'l4' for model mlp", rep("[l1, l2]", "[l1, l4]")),
 ("target-module-empty", "target_modules must name at least one module", rep("[l1, l2]", "[]")),
 ("target-module-duplicate", "lists 'l1' twice", rep("[l1, l2]", "[l1, l1]")),
 ("target-module-all-linear-mixed", "all-linear must be the only entry", rep("[l1, l2]", "[all-linear, l1]")),
 ("target-module-values-unknown", "unknown target module 'o_prj'", TB.replace("target_modules: { value: [q_proj, v_proj] }", "target_modules: { values: [[q_proj, v_proj], [q_proj, o_prj]] }")),
 ("target-module-mapping", "target_modules must be a list of names", rep("[l1, l2]", "{ a: 1 }")),
 ("target-regex-bad", "target_modules_regex must be a valid regular expression", add("  target_modules_regex: { value: '(unclosed' }\n")),
 ("layers-negative", "layers_to_transform entry must be an integer ≥ 0", add("  layers_to_transform: { value: [0, -1] }\n")),
 ("rank-pattern-zero", "rank_pattern value must be an integer ≥ 1", add("  rank_pattern: { value: { l1: 0 } }\n")),
 ("alpha-pattern-nan", "alpha_pattern value must be a finite number > 0", add("  alpha_pattern: { value: { l1: .nan } }\n")),
 # --- distributions
 ("dist-in-grid", "use method: random", rep("  lr: { value: 1.0e-3 }", "  lr: { distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2 }")),
 ("dist-unknown", "distribution must be one of constant, uniform, int_uniform", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: gaussian, min: 0, max: 1 }")),
 ("dist-log-uniform-wandb", "log_uniform bounds are exponents of e", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  dropout: { distribution: log_uniform, min: 0.01, max: 0.5 }")),
 ("dist-min-ge-max", "needs min < max", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: uniform, min: 0.01, max: 0.001 }")),
 ("dist-min-eq-max", "needs min < max", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: uniform, min: 0.01, max: 0.01 }")),
 ("dist-log-min-zero", "lr must be a finite number > 0, got 0", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: log_uniform_values, min: 0, max: 0.1 }")),
 ("dist-log-negative-dropout", "log_uniform_values needs min > 0", add("  dropout: { distribution: log_uniform_values, min: 0, max: 0.5 }\n").replace("method: grid", "method: random\nrun_cap: 5")),
 ("dist-missing-max", "needs max", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: uniform, min: 0.001 }")),
 ("dist-q-too-wide", "is wider than", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: q_uniform, min: 0.001, max: 0.01 }")),
 ("dist-q-zero", "q must be a finite number > 0", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: q_uniform, min: 0.001, max: 0.01, q: 0 }")),
 ("dist-uniform-on-int", "rank takes integers; use distribution int_uniform", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  rank: { values: [4, 8] }", "  rank: { distribution: uniform, min: 1, max: 64 }")),
 ("dist-int-uniform-rank-zero", "rank must be an integer ≥ 1, got 0", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  rank: { values: [4, 8] }", "  rank: { distribution: int_uniform, min: 0, max: 64 }")),
 ("dist-int-uniform-float-bound", "rank max must be an integer", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  rank: { values: [4, 8] }", "  rank: { distribution: int_uniform, min: 1, max: 6.5 }")),
 ("dist-categorical-no-values", "categorical distribution of bias needs values", add("  bias: { distribution: categorical }\n").replace("method: grid", "method: random\nrun_cap: 5")),
 ("dist-categorical-empty", "values of bias is empty", add("  bias: { distribution: categorical, values: [] }\n").replace("method: grid", "method: random\nrun_cap: 5")),
 ("dist-uniform-on-string", "bias is not numeric", add("  bias: { distribution: uniform, min: 0, max: 1 }\n").replace("method: grid", "method: random\nrun_cap: 5")),
 ("dist-nan-bound", "lr must be a finite number > 0, got .nan", BASE.replace("method: grid", "method: random\nrun_cap: 5").replace("  lr: { value: 1.0e-3 }", "  lr: { distribution: uniform, min: .nan, max: 0.1 }")),
 # --- grid size
 ("grid-too-large", "at most 10000 are allowed", add("  epochs: { values: [" + ", ".join(str(i) for i in range(1, 101)) + "] }\n  batch_size: { values: [" + ", ".join(str(i) for i in range(1, 101)) + "] }\n")),
 # --- early termination
 ("early-unknown-type", "early_terminate.type must be asha, hyperband or median", add("early_terminate: { type: bohb, max_iter: 9 }\n")),
 ("early-no-type", "needs type", add("early_terminate: { max_iter: 9 }\n")),
 ("early-asha-no-max", "needs max_iter", add("early_terminate: { type: asha, min_iter: 1 }\n")),
 ("early-asha-max-le-min", "max_iter must be greater than min_iter", add("early_terminate: { type: asha, min_iter: 9, max_iter: 3 }\n")),
 ("early-asha-eta-one", "eta must be a number above 1", add("early_terminate: { type: asha, max_iter: 27, eta: 1 }\n")),
 ("early-asha-unknown-key", "unknown key 'max_t' (did you mean 'max_iter'?)", add("early_terminate: { type: asha, max_iter: 27, max_t: 27 }\n")),
 ("early-hyperband-brackets", "brackets must be at most 3", add("early_terminate: { type: hyperband, min_iter: 1, max_iter: 27, eta: 3, brackets: 9 }\n")),
 ("early-median-min-trials-zero", "min_trials must be an integer ≥ 1", add("early_terminate: { type: median, min_trials: 0 }\n")),
 ("early-median-start-negative", "start_iter must be an integer ≥ 0", add("early_terminate: { type: median, start_iter: -2 }\n")),
 ("early-scalar", "early_terminate must be a mapping", add("early_terminate: asha\n")),
 # --- abuse
 ("alias-billion-laughs", "aliases", """name: lol
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""),
 ("alias-simple", "aliases", rep("  alpha: { value: 8 }", "  alpha: &x { value: 8 }\n  dropout: *x")),
 ("alias-merge-key", "aliases", rep("  alpha: { value: 8 }", "  alpha: &x { value: 8 }\n  dropout: { <<: *x }")),
 ("tag-python", "YAML tag", rep("seed: 1", "seed: !!python/object:os.system [ls]")),
 ("tag-custom", "YAML tag", rep("seed: 1", "seed: !secret 1")),
 ("long-string", "longer than the 4096 allowed", add("description: " + "x" * 5000 + "\n")),
 ("deep-nesting", "nested more than 64 levels", add("description: " + "[" * 100 + "]" * 100 + "\n")),
 # --- the trainer's rules across options, and the metrics a task reports
 ("epochs-zero-no-steps", "epochs 0 with max_steps 0 trains nothing", add("  epochs: { value: 0 }\n")),
 ("metric-cut-short", "unknown metric 'test_accu': lora trials of mlp on mnist report train_loss, test_loss, test_accuracy (did you mean 'test_accuracy'?)", rep("name: test_accuracy", "name: test_accu")),
 ("metric-of-another-task", "unknown metric 'test_accuracy': lora trials of transformer-block on synthetic-regression report",
  TB.replace("dataset: mnist", "dataset: synthetic-regression")),
 ("metric-synonym", "(did you mean 'test_accuracy'?)", rep("name: test_accuracy", "name: accuracy")),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed")
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    os.remove(os.path.join(out, f))
names = set()
for name, expect, text in cases:
    assert name not in names, name
    names.add(name)
    with open(os.path.join(out, name + ".yaml"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("# expect: " + expect + "\n" + text)
print(len(cases), "files")
