"""Runs: one plain function per kind of run, config in, result and run directory out.

- `keras_ae.runs.train.run_train(TrainConfig(...))`: train one architecture (`keras-ae-train`)
- `keras_ae.runs.one_class.run_one_class(OneClassConfig(...))`: one-class detection on images (`keras-ae-anomaly`)
- `keras_ae.runs.fraud.fit_fraud(FraudFitConfig(...))`: fit a fraud detector on a CSV (`keras-ae-fraud fit`)
- the lecture exercises: `keras_ae.lectures.font.run_font`, `keras_ae.lectures.sweep.run_sweep`

Commands and benchmarks call these; so can a Python user.
"""
