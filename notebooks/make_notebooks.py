"""Write the notebooks of this folder (lectures, fraud, latent) from the cells below, outputs cleared.

    python notebooks/make_notebooks.py           # rewrite notebooks/*.ipynb
    python notebooks/make_notebooks.py --check   # exit 1 when a notebook differs from what this file makes

Edit the cells here, not in the .ipynb files (tests/test_notebooks.py checks that both agree). Plain JSON
(nbformat 4.5), no dependency beyond the standard library.
"""

from __future__ import annotations

import json
import pathlib
import sys
import textwrap

HERE = pathlib.Path(__file__).resolve().parent


def md(text: str) -> tuple[str, str]:
    return "markdown", textwrap.dedent(text).strip("\n")


def code(text: str) -> tuple[str, str]:
    return "code", textwrap.dedent(text).strip("\n")


# --------------------------------------------------------------------------------------------- shared cells
SETUP_MD = md("""
    ## Setup

    The next cell installs `keras-ae` when this kernel does not have it yet. Opened from the `notebooks/`
    folder of a clone, it installs that clone (editable); anywhere else (Colab) it installs from the Git
    repository named in `REPO_URL`: **set it to the URL of the keras-ae repository you cloned or forked**
    first. Nothing is installed when `keras_ae` can already be imported.
""")

INSTALL = code("""
    # Installs keras-ae unless it can already be imported.
    import importlib
    import importlib.util
    import pathlib
    import sys

    # REPO_URL: the Git URL of YOUR copy of the keras-ae repository (the one you cloned or forked), e.g.
    # "https://github.com/<your-user>/keras-ae". It is left empty on purpose: no public URL is assumed here.
    REPO_URL = ""

    if importlib.util.find_spec("keras_ae") is None:
        clone = pathlib.Path.cwd().parent  # this notebook opened from the notebooks/ folder of a clone
        if (clone / "pyproject.toml").is_file() and (clone / "keras_ae").is_dir():
            %pip install -q -e "{clone}"
            sys.path.insert(0, str(clone))  # a running kernel sees a new editable install only after a restart
        elif REPO_URL:
            %pip install -q "keras-ae @ git+{REPO_URL}"
        else:
            raise RuntimeError("keras_ae is not installed: set REPO_URL in this cell to the Git URL of your clone "
                               "or fork of the keras-ae repository, then run the cell again")
        importlib.invalidate_caches()

    import keras_ae  # noqa: E402  (after the install above)

    print("keras-ae", keras_ae.__version__)
""")

LOAD_MNIST = code("""
    from keras_ae.data import DownloadError, load_dataset

    try:
        data = load_dataset(DATASET)  # float32 images in [0, 1], shape (n, 28, 28, 1), integer labels
    except DownloadError as err:  # no network: the 5,000 real digits shipped in the repository's data/ folder
        print(f"{err}\\nusing mnist-sample instead")
        data = load_dataset("mnist-sample")

    x_train, y_train = data.x_train[:N_TRAIN], data.y_train[:N_TRAIN]
    x_test, y_test = data.x_test[:N_TEST], data.y_test[:N_TEST]
    print(data.info["name"], "train", x_train.shape, "test", x_test.shape, x_train.dtype,
          "values", float(x_train.min()), "to", float(x_train.max()))
""")

# ------------------------------------------------------------------------------------------------- lectures
LECTURES = [
    md("""
        # The five lecture autoencoders in Keras 3

        The autoencoder lectures build five models on MNIST digits. `keras-ae` has one builder for each:

        | builder | model | parameters |
        |---|---|---|
        | `build_dense` | 784 -> 32 -> 784, one hidden layer (the code) | 50,992 |
        | `build_deep` | 784-128-64-32-64-128-784 | 222,384 |
        | `build_conv` | Conv16-Pool-Conv8-Pool-Conv8-Pool, mirrored with upsampling | 4,385 |
        | `build_denoise` | Conv32-Pool-Conv32-Pool, mirrored; trained on noisy inputs | 28,353 |
        | `build_vae` | variational autoencoder 784-512-2, trained by its own `train_step` | 807,701 |

        Every builder returns `(encoder, decoder, autoencoder)`: three Keras models that share their weights.
        The autoencoder comes **already compiled** (Adam; binary cross-entropy for the sigmoid outputs; the VAE
        with its own reconstruction + KL loss), so `autoencoder.fit(x, x)` works right after building.

        Each model is trained briefly below and its reconstructions are drawn under the original digits. With
        the settings of the next cells the whole notebook takes a few minutes on a CPU (Colab: *Runtime > Run
        all*); raise the epochs for the lecture's numbers.
    """),
    SETUP_MD,
    INSTALL,
    md("""
        ## Parameters

        `QUICK` is for the project's tests (they set `KERAS_AE_NOTEBOOK_QUICK=1`): a thousand digits and one
        epoch per model. The full settings train on 20,000 MNIST digits; the lecture trains on all 60,000 for
        50 (dense), 100 (deep, denoise), 10 (conv) and 30 (VAE) epochs, which wants a GPU.
    """),
    code("""
        import os

        QUICK = os.environ.get("KERAS_AE_NOTEBOOK_QUICK") == "1"

        DATASET = "mnist-sample" if QUICK else "mnist"  # "mnist" downloads 11 MB once (Keras cache)
        N_TRAIN = 1_000 if QUICK else 20_000  # training digits used (None: all 60,000)
        N_TEST = 200 if QUICK else 2_000
        if QUICK:
            EPOCHS = {"dense": 1, "deep": 1, "conv": 1, "denoise": 1, "vae": 1}
        else:
            EPOCHS = {"dense": 10, "deep": 10, "conv": 5, "denoise": 3, "vae": 10}
        BATCH_SIZE = 128
        NOISE_FACTOR = 0.5  # the lecture's noise_factor for the denoising autoencoder
        N_SHOW = 10  # digits per picture
    """),
    md("""
        ## The data

        `keras_ae.data.load_dataset("mnist")` downloads MNIST once and returns a `Dataset` of float32 images
        in [0, 1]. Without network it raises `DownloadError`; the repository ships 5,000 real MNIST digits as
        the dataset `"mnist-sample"`, used then instead. The dense models take flat 784-vectors, as in the
        lecture; the convolutional ones take 28x28x1 images.
    """),
    LOAD_MNIST,
    code("""
        x_train_flat = x_train.reshape(len(x_train), -1)  # (n, 784) for the dense models
        x_test_flat = x_test.reshape(len(x_test), -1)
        print("flat:", x_train_flat.shape, x_test_flat.shape)
    """),
    md("""
        ## Five builders, five compiled autoencoders

        Each call builds the lecture model with its default arguments (all of them can be changed:
        `build_dense(latent_dim=64)`, `build_conv(filters=(32, 16, 8))`, ...). `keras_ae.latent.code_shape`
        gives the shape of one code: what the decoder takes.
    """),
    code("""
        from keras_ae import build_conv, build_deep, build_denoise, build_dense, build_vae
        from keras_ae.latent import code_shape

        models = {
            "dense": build_dense(),  # input_shape=(784,), latent_dim=32
            "deep": build_deep(),  # hidden=(128, 64), latent_dim=32
            "conv": build_conv(),  # input_shape=(28, 28, 1), filters=(16, 8, 8)
            "denoise": build_denoise(),  # filters=(32, 32)
            "vae": build_vae(latent_dim=2, seed=0),  # dense 784-512-2 variational autoencoder
        }
        params = {name: bundle.autoencoder.count_params() for name, bundle in models.items()}
        for name, bundle in models.items():
            print(f"{name:8s} {params[name]:>9,} parameters   code shape {code_shape(bundle)}")

        assert params["dense"] == 50_992 and params["deep"] == 222_384 and params["conv"] == 4_385, params
    """),
    md("""
        The lecture compiles each model before training; the builders already did:
    """),
    code("""
        dense_autoencoder = models["dense"].autoencoder
        print("dense:", type(dense_autoencoder.optimizer).__name__, dense_autoencoder.loss)
        print("vae:  ", type(models["vae"].autoencoder.optimizer).__name__,
              "and its own loss (reconstruction + KL, computed in VAE.train_step)")
    """),
    md("""
        To train with something else, compile again: it replaces the builder's choice, e.g.
        `autoencoder.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")`. A VAE takes only an
        optimizer: `vae.compile(optimizer="adam")`.

        A small helper draws rows of digits: originals on top, reconstructions below.
        (`keras_ae.figures.image_rows(rows, labels, "file.png")` writes the same kind of picture to a file.)
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np


        def show_rows(rows, labels, title):
            \"\"\"One row of N_SHOW digits per array of images, labelled on the left.\"\"\"
            fig, axes = plt.subplots(len(rows), N_SHOW, figsize=(1.1 * N_SHOW, 1.2 * len(rows) + 0.4),
                                     squeeze=False)
            for r, (images, label) in enumerate(zip(rows, labels)):
                for c in range(N_SHOW):
                    axes[r, c].imshow(np.reshape(images[c], (28, 28)), cmap="gray", vmin=0, vmax=1)
                    axes[r, c].set_xticks([])
                    axes[r, c].set_yticks([])
                axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
            fig.suptitle(title)
            plt.show()


        test_bce = {}  # binary cross-entropy per pixel on the test digits, per model
    """),
    md("""
        ## 1. Dense: 784 -> 32 -> 784

        The encoder squeezes each digit into 32 numbers; the decoder draws the digit back from them.
    """),
    code("""
        encoder, decoder, autoencoder = models["dense"]
        history = autoencoder.fit(x_train_flat, x_train_flat, epochs=EPOCHS["dense"], batch_size=BATCH_SIZE,
                                  shuffle=True, validation_data=(x_test_flat, x_test_flat), verbose=2)

        codes = encoder.predict(x_test_flat, verbose=0)  # 32 numbers per digit
        decoded = decoder.predict(codes, verbose=0)  # the same as autoencoder.predict(x_test_flat)
        test_bce["dense"] = history.history["val_loss"][-1]
        print("codes", codes.shape, "reconstructions", decoded.shape)
        show_rows([x_test_flat, decoded], ["original", "dense"], "Dense autoencoder, 32-number code")
    """),
    md("""
        ## 2. Deep: 784-128-64-32-64-128-784

        The same 32-number code, reached through two hidden layers on each side.
    """),
    code("""
        encoder, decoder, autoencoder = models["deep"]
        history = autoencoder.fit(x_train_flat, x_train_flat, epochs=EPOCHS["deep"], batch_size=BATCH_SIZE,
                                  shuffle=True, validation_data=(x_test_flat, x_test_flat), verbose=2)

        deep_decoded = autoencoder.predict(x_test_flat, verbose=0)
        test_bce["deep"] = history.history["val_loss"][-1]
        show_rows([x_test_flat, decoded, deep_decoded], ["original", "dense", "deep"],
                  "Deep autoencoder beside the dense one")
    """),
    md("""
        ## 3. Convolutional: 4,385 parameters

        Three convolution + max-pooling steps bring a 28x28 digit down to a 4x4x8 code (128 numbers); the
        decoder mirrors them with upsampling. Fewer parameters than the dense model, because a convolution
        reuses its small kernels at every position.
    """),
    code("""
        encoder, decoder, autoencoder = models["conv"]
        history = autoencoder.fit(x_train, x_train, epochs=EPOCHS["conv"], batch_size=BATCH_SIZE, shuffle=True,
                                  validation_data=(x_test, x_test), verbose=2)

        print("code of one digit:", encoder.predict(x_test[:1], verbose=0).shape[1:])
        conv_decoded = autoencoder.predict(x_test, verbose=0)
        test_bce["conv"] = history.history["val_loss"][-1]
        show_rows([x_test, conv_decoded], ["original", "conv"], "Convolutional autoencoder, 4x4x8 code")
    """),
    md("""
        ## 4. Denoising

        The lecture's corruption: `clip(x + 0.5 * N(0, 1), 0, 1)` (`keras_ae.data.gaussian_noise`;
        `salt_and_pepper` and `add_noise(x, kind, amount)` are there too). The model sees noisy digits and
        learns to output the clean ones: `fit(noisy, clean)`.
    """),
    code("""
        from keras_ae.data import gaussian_noise

        x_train_noisy = gaussian_noise(x_train, NOISE_FACTOR, seed=0)
        x_test_noisy = gaussian_noise(x_test, NOISE_FACTOR, seed=1)

        encoder, decoder, autoencoder = models["denoise"]
        history = autoencoder.fit(x_train_noisy, x_train, epochs=EPOCHS["denoise"], batch_size=BATCH_SIZE,
                                  shuffle=True, validation_data=(x_test_noisy, x_test), verbose=2)

        denoised = autoencoder.predict(x_test_noisy, verbose=0)
        test_bce["denoise"] = history.history["val_loss"][-1]  # against the clean digits
        show_rows([x_test_noisy, denoised, x_test], ["noisy", "denoised", "clean"], "Denoising autoencoder")
    """),
    md("""
        ## 5. Variational autoencoder

        The encoder gives a mean and a log-variance per code dimension (`z_mean`, `z_log_var`); training
        decodes a sample `z = z_mean + exp(z_log_var / 2) * eps` and adds the KL divergence to N(0, I) to the
        reconstruction error, in the model's own `train_step`. So `fit` takes the images alone. `predict`
        decodes `z_mean`: deterministic. Its reconstruction loss is summed over the 784 pixels; divided by
        784 it compares with the others' per-pixel cross-entropy. The notebook `latent.ipynb` explores its
        2-D code.
    """),
    code("""
        encoder, decoder, vae = models["vae"]
        history = vae.fit(x_train, epochs=EPOCHS["vae"], batch_size=BATCH_SIZE, shuffle=True,
                          validation_data=(x_test, x_test), verbose=2)

        z_mean, z_log_var = encoder.predict(x_test, verbose=0)
        vae_decoded = vae.predict(x_test, verbose=0)
        test_bce["vae"] = history.history["val_reconstruction_loss"][-1] / 784
        print("z_mean", z_mean.shape, "KL per digit", round(history.history["val_kl_loss"][-1], 2))
        show_rows([x_test, vae_decoded], ["original", "vae"], "Variational autoencoder, 2-number code")
    """),
    md("""
        ## All five side by side

        Test binary cross-entropy per pixel (lower is better; the VAE's is that of a sampled code, and it has
        only 2 numbers to work with). With the full settings the four plain autoencoders end up around 0.11 to
        0.13 and the VAE around 0.2; more epochs bring them lower.
    """),
    code("""
        show_rows([x_test, decoded, deep_decoded, conv_decoded, denoised, vae_decoded],
                  ["original", "dense", "deep", "conv", "denoise", "vae"], "Reconstructions of the five models")

        summary = {
            "dataset": data.info["name"],
            "train_images": len(x_train),
            "parameters": params,
            "test_bce_per_pixel": {name: round(float(value), 4) for name, value in test_bce.items()},
        }
        for name in models:
            print(f"{name:8s} {params[name]:>9,} parameters   {EPOCHS[name]:>3} epochs   "
                  f"test BCE {summary['test_bce_per_pixel'][name]:.4f}")
        assert all(np.isfinite(value) for value in test_bce.values()), test_bce
    """),
]

# ---------------------------------------------------------------------------------------------------- fraud
FRAUD = [
    md("""
        # Credit-card fraud detection with an autoencoder ensemble: fit, score, explain

        `keras_ae.fraud.FraudDetector` learns what **normal** transactions look like and flags the rows it
        reconstructs badly. It is a scikit-learn estimator: `fit` on normal rows, then `score_samples`
        (0 = a typical normal row, higher = more unusual), `predict` (1 = flagged), `p_values` (how rare a
        score is among held-out normal rows) and `explain` (which columns drove a row's score).

        This notebook runs on **synthetic transactions in the schema of the real Kaggle file** (`Time`,
        `V1`..`V28`, `Amount`, `Class`), made by `keras_ae.fraud.synthetic_transactions`, so it needs no
        download; the section *The real data* says how to use the real file instead. A few minutes on a CPU.
    """),
    SETUP_MD,
    INSTALL,
    md("""
        ## Parameters

        `QUICK` is for the project's tests (`KERAS_AE_NOTEBOOK_QUICK=1`): small tables, one autoencoder, two
        epochs.
    """),
    code("""
        import os

        QUICK = os.environ.get("KERAS_AE_NOTEBOOK_QUICK") == "1"

        N_ROWS = 3_000 if QUICK else 100_000  # synthetic transactions per table (the real file has 284,807)
        FRAUD_RATE = 0.005  # higher than the real 0.172 %, so that a small table still has frauds to find
        EPOCHS = 2 if QUICK else 50  # at most: training stops early when held-out normal rows stop improving
        N_MODELS = 1 if QUICK else 3  # autoencoders in the ensemble
        REAL_DATA = False  # True: the real Kaggle file instead (about 150 MB, downloaded once), see below
        CREDITCARD_URL = "https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv"
    """),
    md("""
        ## The data

        Two tables: `past` transactions to learn from, and `new` ones to score. The synthetic generator copies
        what matters to a detector: correlated V-features with decreasing variance (like PCA components), a
        day/night rhythm in `Time`, right-skewed amounts, and frauds that leave the normal structure in a few
        directions (V14, V12, V10, V17 low; V4, V11 high), many of them only slightly.

        ### The real data

        The detector is made for the ULB **Credit Card Fraud Detection** dataset (Worldline and the Machine
        Learning Group of the Université Libre de Bruxelles): 284,807 card transactions of two days in
        September 2013, 492 of them frauds (0.172 %), with the same columns as the synthetic tables. It is on
        Kaggle as [mlg-ulb/creditcardfraud](https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud) under the
        Database Contents License (DbCL) v1.0, and TensorFlow hosts a copy at
        <https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv>.

        To use it, set `REAL_DATA = True` in the parameters cell: the next cell then downloads the file once
        (with `keras_ae.fraud.fetch_creditcard()` where your keras-ae has it, else with
        `keras.utils.get_file`), learns from the first 70 % of the rows (the file is in time order) and
        scores the last 30 %. Everything after that cell is unchanged. Fitting on the 199,000 rows takes
        several minutes on a CPU.
    """),
    code("""
        import pandas as pd

        import keras_ae.fraud
        from keras_ae.fraud import synthetic_transactions

        if REAL_DATA:
            if hasattr(keras_ae.fraud, "fetch_creditcard"):  # newer keras-ae: downloads once, returns the CSV path
                csv_path = keras_ae.fraud.fetch_creditcard()
            else:
                import keras

                csv_path = keras.utils.get_file("creditcard.csv", CREDITCARD_URL)
            table = pd.read_csv(csv_path)
            cut = int(0.7 * len(table))  # rows are in time order: learn from the past, score what came after
            past, new = table.iloc[:cut].reset_index(drop=True), table.iloc[cut:].reset_index(drop=True)
        else:
            past = synthetic_transactions(N_ROWS, fraud_rate=FRAUD_RATE, seed=0)
            new = synthetic_transactions(N_ROWS, fraud_rate=FRAUD_RATE, seed=1)

        print(f"past: {len(past):,} rows, {int(past['Class'].sum())} frauds;   "
              f"new: {len(new):,} rows, {int(new['Class'].sum())} frauds")
        past.head()
    """),
    md("""
        ## Fit on normal rows

        The detector never needs to see a fraud: it learns the normal rows (rows with `Class == 1` are left
        out anyway, and the `Class` column is never a feature). `Amount` is log-transformed; `time_mode="hour"`
        turns `Time` (seconds) into the hour of the day, on a circle. A fifth of the normal rows is held out:
        for early stopping, to scale the scores, and to set the threshold (rule `"alpha"`: flag a row when
        at most 0.5 % of held-out normal rows score as high, so about 0.5 % false alarms on new normal rows).

        A row's score joins two views: the ensemble's reconstruction error and the distance to the nearest
        normal rows.
    """),
    code("""
        from keras_ae.fraud import FraudDetector
        from keras_ae.fraud.detector import describe

        normal = past[past["Class"] == 0]
        detector = FraudDetector(epochs=EPOCHS, n_models=N_MODELS, time_mode="hour", seed=0)
        detector.fit(normal)

        print(describe(detector))
        print("epochs trained per autoencoder:", detector.epochs_run_)
        detector.threshold_info()
    """),
    md("""
        ## Score new transactions

        - `score_samples(X)`: 0 for a typical normal row, 1 one interquartile range of normal rows above it;
        - `predict(X)`: 1 where the score is above `detector.threshold_`;
        - `p_values(X)`: the share of held-out normal rows scoring at least as high (small = rare).

        (`detector.scored(X)` returns scores, reconstruction errors and per-feature contributions in one pass.)
    """),
    code("""
        scores = detector.score_samples(new)
        flags = detector.predict(new)
        p = detector.p_values(new)
        labels = new["Class"].to_numpy()

        ranked = new.assign(score=scores, p_value=p, flagged=flags).sort_values("score", ascending=False)
        ranked[["Time", "Amount", "Class", "score", "p_value", "flagged"]].head(10)
    """),
    md("""
        ## How good is it?

        Frauds are rare, so accuracy says little. ROC-AUC is the chance that a random fraud scores above a
        random normal row; average precision (the area under the precision-recall curve) is compared with the
        base rate, what random scores would get.
    """),
    code("""
        from sklearn.metrics import average_precision_score, roc_auc_score

        roc_auc = roc_auc_score(labels, scores)
        average_precision = average_precision_score(labels, scores)
        caught = int(flags[labels == 1].sum())
        false_alarms = int(flags[labels == 0].sum())
        print(f"ROC-AUC {roc_auc:.3f}   average precision {average_precision:.3f} (base rate {labels.mean():.4f})")
        print(f"flagged {int(flags.sum())} of {len(flags):,} rows: {caught} of {int(labels.sum())} frauds caught, "
              f"{false_alarms} false alarms ({false_alarms / (labels == 0).sum():.2%} of normal rows)")
    """),
    md("""
        The scores of both classes, with the threshold: most frauds score far above the normal rows, and the
        subtle ones overlap them. (`keras_ae.fraud.figures.error_histogram(scores, labels, threshold, "file.png")`
        writes this picture to a file.)
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np

        # bins even on a symmetric log scale: linear within +-1, logarithmic beyond (scores have a long right tail)
        squashed = np.sign(scores) * np.log10(1 + np.abs(scores))
        edges = np.linspace(squashed.min(), squashed.max() + 1e-3, 61)
        bins = np.sign(edges) * (10 ** np.abs(edges) - 1)
        fig, ax = plt.subplots(figsize=(7, 4))
        for value, name, color in ((0, "normal", "tab:blue"), (1, "fraud", "tab:red")):
            ax.hist(scores[labels == value], bins=bins, alpha=0.6, color=color,
                    label=f"{name} ({(labels == value).sum():,})")
        ax.axvline(detector.threshold_, color="black", linestyle="--", label=f"threshold {detector.threshold_:.3g}")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("log")
        ax.set_xlabel("score (0 = a typical normal row)")
        ax.set_ylabel("rows")
        ax.set_title("Scores of new transactions by class")
        ax.legend()
        plt.show()
    """),
    md("""
        ## Why was a row flagged?

        `explain(X, top=3)` lists, per row, the columns whose reconstruction error contributes most to its
        score, with their share of it. That is what an analyst looks at first.
    """),
    code("""
        flagged_rows = new[flags == 1]
        reasons = detector.explain(flagged_rows.head(10), top=3)
        for (index, row), top in zip(flagged_rows.head(10).iterrows(), reasons):
            kind = "fraud " if row["Class"] == 1 else "normal"
            print(f"row {index:>6}  {kind}  score {scores[index]:8.2f}   "
                  + ", ".join(f"{column} {share:.0%}" for column, share in top))
    """),
    md("""
        Over all frauds: which column drives the score most often? On the synthetic data these should mostly be
        the columns the frauds were shifted along (V14, V12, V10, V17, V4, V11, V3), with `Amount` and `Time`
        for the frauds whose amount (a card test of about 1.00) or hour (the night) gives them away.
    """),
    code("""
        from collections import Counter

        fraud_reasons = detector.explain(new[labels == 1], top=1)
        most_often = Counter(top[0][0] for top in fraud_reasons).most_common(8)
        print("top column of each fraud's score:", most_often)
    """),
    md("""
        ## Change the threshold, save, load

        The threshold comes from the stored held-out scores, so it can change without retraining:
        `set_threshold("fpr", 0.01)` accepts 1 % false alarms to catch more frauds. `save` writes a bundle of
        JSON and NumPy files; `FraudDetector.load` reads it back and scores without importing TensorFlow.
        The command `keras-ae-fraud` (`fit`, `score`, `evaluate`, `demo`) does the same on CSV or Parquet
        files of any size.
    """),
    code("""
        detector.set_threshold("fpr", 0.01)
        looser = detector.predict(new)
        print(f"fpr 1 %: {int(looser[labels == 1].sum())} frauds caught, {int(looser[labels == 0].sum())} false alarms")
        detector.set_threshold("alpha", 0.005)  # back to the default rule

        bundle_dir = detector.save("fraud_model")
        loaded = FraudDetector.load(bundle_dir)
        assert np.allclose(loaded.score_samples(new), scores)
        print("saved to", bundle_dir, "and loaded: same scores")
    """),
    code("""
        summary = {
            "rows": {"past": len(past), "new": len(new)},
            "frauds_in_new": int(labels.sum()),
            "roc_auc": round(float(roc_auc), 4),
            "average_precision": round(float(average_precision), 4),
            "flagged": int(flags.sum()),
            "caught": caught,
            "top_columns": most_often,
        }
        summary
    """),
]

# --------------------------------------------------------------------------------------------------- latent
LATENT = [
    md("""
        # The latent space of a variational autoencoder

        A VAE with a **2-dimensional code** is trained on MNIST digits; then `keras_ae.latent` looks inside it:

        - `encode`: where each test digit lands in the 2-D code space (a scatter coloured by digit);
        - `manifold_grid` + `decode`: the digit the decoder draws at every point of a grid over that space;
        - `traverse`: one code dimension changed at a time;
        - `sample`: new digits from codes drawn from the prior N(0, I);
        - `interpolate`: a path from one digit to another through the code space;
        - `latent_usage`, `prior_sample_report`: is every dimension used, do samples look like real digits?

        A few minutes on a CPU with the settings below.
    """),
    SETUP_MD,
    INSTALL,
    md("""
        ## Parameters

        `QUICK` is for the project's tests (`KERAS_AE_NOTEBOOK_QUICK=1`): a thousand digits, one epoch.
    """),
    code("""
        import os

        QUICK = os.environ.get("KERAS_AE_NOTEBOOK_QUICK") == "1"

        DATASET = "mnist-sample" if QUICK else "mnist"  # "mnist" downloads 11 MB once (Keras cache)
        N_TRAIN = 1_000 if QUICK else None  # None: all 60,000 training digits
        N_TEST = 500 if QUICK else 5_000
        EPOCHS = 1 if QUICK else 10  # the lecture trains 30
        BATCH_SIZE = 128
        LATENT_DIM = 2
        GRID = 8 if QUICK else 15  # the manifold picture is GRID x GRID digits
        FIGURES = "latent_figures"  # folder for the PNG files written at the end
    """),
    md("""
        ## The data

        As in `lectures.ipynb`: MNIST, or the 5,000 shipped digits (`"mnist-sample"`) without network.
    """),
    LOAD_MNIST,
    md("""
        ## Build and train the VAE

        `build_vae` returns a bundle `(encoder, decoder, autoencoder)`; the encoder gives `[z_mean, z_log_var]`
        and the autoencoder is a `VAE` model, compiled, with its own loss: reconstruction (binary
        cross-entropy summed over pixels) plus the KL divergence of the code distribution to N(0, I). So
        `fit` takes the images alone. The functions of `keras_ae.latent` take the whole bundle.
    """),
    code("""
        from keras_ae import build_vae

        model = build_vae(latent_dim=LATENT_DIM, seed=0)  # dense 784-512-2; kind="conv" for keras-io's conv VAE
        encoder, decoder, vae = model
        print(f"{vae.count_params():,} parameters")
        history = vae.fit(x_train, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=True,
                          validation_data=(x_test, x_test), verbose=2)
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        epochs = np.arange(1, len(history.history["loss"]) + 1)
        for ax, key in zip(axes, ("reconstruction_loss", "kl_loss")):
            ax.plot(epochs, history.history[key], "o-", label="training")
            ax.plot(epochs, history.history["val_" + key], "s--", label="test")
            ax.set_xlabel("epoch")
            ax.set_title(key.replace("_", " ") + " per digit")
            ax.legend()
        plt.show()
    """),
    md("""
        ## Where the digits land

        `latent.encode(model, x)` returns the code of each image; for a VAE that is `z_mean`, so it is
        deterministic. Each digit class gathers in its own region, and the whole cloud stays near the origin,
        where the KL term pulls it.
    """),
    code("""
        from keras_ae import latent

        codes = latent.encode(model, x_test)
        print("codes", codes.shape)

        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=6, alpha=0.8)
        fig.colorbar(points, ax=ax, label="digit")
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        ax.set_title("Test digits in the 2-D code space")
        plt.show()
    """),
    md("""
        ## The manifold: a digit at every point

        `latent.manifold_grid(codes, n)` lays an n x n grid over the region where the codes lie (the central
        96 % of each coordinate); `latent.decode(model, points)` draws the digit of every grid point. Digits
        change smoothly from one into the next: the decoder has learnt a continuous space.
    """),
    code("""
        points, extent = latent.manifold_grid(codes, n=GRID)
        images = latent.decode(model, points)  # (GRID * GRID, 28, 28, 1), rows from the top (largest z[1]) down
        canvas = images.reshape(GRID, GRID, 28, 28).transpose(0, 2, 1, 3).reshape(GRID * 28, GRID * 28)

        fig, ax = plt.subplots(figsize=(7, 7))
        ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=extent, aspect="auto")
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        ax.set_title("Decoded grid over the code space")
        plt.show()
    """),
    md("""
        ## Traversal: one dimension at a time

        `latent.traverse(model, dims, span, steps)` starts at the zero code (the prior's mean) and moves one
        dimension from `-span` to `+span` while the others stay put. It returns the offsets and the codes and
        images, shaped (dimensions, steps, ...).
    """),
    code("""
        offsets, traversal = latent.traverse(model, dims=range(LATENT_DIM), span=2.5, steps=9)

        fig, axes = plt.subplots(LATENT_DIM, len(offsets), figsize=(1.1 * len(offsets) + 1, 1.2 * LATENT_DIM + 0.6),
                                 squeeze=False)
        for row in range(LATENT_DIM):
            for col, offset in enumerate(offsets):
                axes[row, col].imshow(traversal.images[row, col, :, :, 0], cmap="gray", vmin=0, vmax=1)
                axes[row, col].set_xticks([])
                axes[row, col].set_yticks([])
                if row == 0:
                    axes[row, col].set_title(f"{offset:+.1f}", fontsize=9)
            axes[row, 0].set_ylabel(f"z[{row}]", rotation=0, ha="right", va="center")
        fig.suptitle("Traversal of each code dimension around 0")
        plt.show()
    """),
    md("""
        ## New digits from the prior

        A VAE is a generative model: codes drawn from N(0, I) decode to new digits. `latent.sample(model, n)`
        does exactly that (for a plain autoencoder, which has no prior, it fits a Gaussian to codes you pass).
        `latent.prior_sample_report` measures how close the samples come to real training digits, against
        the same distance for reconstructions of test digits (ratio near 1: samples look as real as
        reconstructions).
    """),
    code("""
        drawn = latent.sample(model, 16, seed=0)

        fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
        for ax, image, z in zip(axes.ravel(), drawn.images, drawn.codes):
            ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"({z[0]:.1f}, {z[1]:.1f})", fontsize=8)
            ax.axis("off")
        fig.suptitle("Digits decoded from codes drawn from N(0, I)")
        plt.show()

        realism = latent.prior_sample_report(model, x_train, x_test, n=100 if QUICK else 500)
        realism
    """),
    md("""
        ## Interpolation

        `latent.interpolate(model, a, b, steps)` walks the straight line between the codes of two images;
        the first and last pictures are their reconstructions.
    """),
    code("""
        first, second = int(np.flatnonzero(y_test == 3)[0]), int(np.flatnonzero(y_test == 8)[0])
        path = latent.interpolate(model, x_test[first], x_test[second], steps=10)

        fig, axes = plt.subplots(1, 10, figsize=(11, 1.6))
        for ax, image in zip(axes, path.images):
            ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
        fig.suptitle("From a 3 to an 8 through the code space")
        plt.show()
    """),
    md("""
        ## Is every dimension used?

        A VAE may let a code dimension collapse to the prior (its `z_mean` no longer depends on the input).
        `latent.latent_usage(z_mean, z_log_var)` reports each dimension's KL and activity (variance of
        `z_mean` over the inputs); both dimensions should be active here.
    """),
    code("""
        z_mean, z_log_var = encoder.predict(x_test, verbose=0)
        usage = latent.latent_usage(z_mean, z_log_var)
        usage
    """),
    md("""
        ## The same pictures as files

        `keras_ae.latent.figures` writes the scatter and the traversal grid as PNG files (what the training
        command leaves in its run directory).
    """),
    code("""
        import pathlib

        from keras_ae.latent.figures import latent_scatter, traversal_grid

        out = pathlib.Path(FIGURES)
        out.mkdir(exist_ok=True)
        written = [
            latent_scatter(codes, y_test, out / "latent_scatter.png", title="VAE codes of test digits"),
            traversal_grid(traversal.images, out / "traversal.png", [f"z[{d}]" for d in range(LATENT_DIM)],
                           offsets, title="Traversal around 0"),
        ]
        print("wrote", ", ".join(written))
    """),
    md("""
        ## Going further

        - More code dimensions: `build_vae(latent_dim=8)`; the scatter then needs a projection
          (`keras_ae.latent.figures.latent_scatter` uses PCA for codes of more than 2 dimensions).
        - Known factors: the `"smileys"` dataset (64x64 faces drawn from mouth curve, eye size, face hue
          and face size) lets `latent.factor_report(codes, factors, names)` measure how well each code
          dimension tracks one factor. Its preset (`python scripts/train.py --dataset smileys`: a conv VAE
          started as a plain autoencoder, then trained on pairs of faces that differ in one factor) takes
          about 8 minutes on 2 CPU cores, too long for this notebook.
    """),
    code("""
        summary = {
            "dataset": data.info["name"],
            "train_images": len(x_train),
            "parameters": vae.count_params(),
            "codes_shape": list(codes.shape),
            "codes_finite": bool(np.isfinite(codes).all()),
            "samples_shape": list(drawn.images.shape),
            "sample_range": [round(float(drawn.images.min()), 4), round(float(drawn.images.max()), 4)],
            "active_dims": usage["active_dims"],
            "prior_sample_ratio": realism["ratio"],
            "figures": written,
        }
        summary
    """),
]

NOTEBOOKS = {"lectures": LECTURES, "fraud": FRAUD, "latent": LATENT}


def lines(text: str) -> list[str]:
    """Jupyter's way of storing a cell's source: its lines, each but the last ending in a newline."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def notebook(name: str) -> dict:
    cells = []
    for i, (kind, text) in enumerate(NOTEBOOKS[name], start=1):
        cell = {"cell_type": kind, "id": f"{name}-{i:02d}", "metadata": {}, "source": lines(text)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    metadata = {
        "colab": {"provenance": []},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def render(name: str) -> str:
    return json.dumps(notebook(name), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        text = render(name)
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print("wrote", path)
    if stale:
        print("out of date (run python notebooks/make_notebooks.py):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
