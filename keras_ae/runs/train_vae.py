"""How the train command fits a VAE: an optional plain-autoencoder start, then the VAE's own epochs with
its KL schedules (warm-up, capacity), on pairs of images where the dataset gives them.

Why a plain-autoencoder start: a factor that changes few pixels (the smileys' thin mouth line) is found
by gradient descent only after a plateau. In a VAE the dimensions no factor has claimed yet sit on the
prior, pure noise to the decoder, so the plateau never ends (measured: no run learnt the mouth in 80
epochs); with beta 0 every dimension stays usable, and a plain autoencoder of the smileys preset's layout
(batch normalisation after every hidden layer) carries the mouth within about 5 epochs (without batch
normalisation after about 40). The VAE then starts from codes that already carry it.
"""

from __future__ import annotations

from typing import Any


def vae_callbacks(config) -> list:
    """KL warm-up and capacity annealing of `config` (a resolved TrainConfig), as callbacks."""
    from keras_ae.models.vae_schedules import CapacityAnnealing, KLWarmup

    callbacks = []
    if config.kl_warmup:
        callbacks.append(KLWarmup(config.kl_warmup))
    if config.capacity:
        callbacks.append(CapacityAnnealing(min(config.capacity_epochs or config.epochs, config.epochs)))
    return callbacks


def warmup_note(kl_warmup: int | None, epochs: int, beta: float) -> str | None:
    """A note when the KL warm-up does not end before the last VAE epoch (epoch e trains with beta * e / warm-up), so
    beta never reaches its value; None otherwise."""
    from keras_ae.models.vae_schedules import KLWarmup

    last = KLWarmup.share(epochs - 1, kl_warmup or 0)
    if last >= 1.0:
        return None
    return (f"note: the KL warm-up ({kl_warmup} epochs) is not shorter than the {epochs} VAE epoch(s): the last trains "
            f"with beta {beta * last:g} of {beta:g} (--kl-warmup sets it)")


def fit_vae(bundle, x_train, pairs, x_val, config, pair_changes: int | None = None, **fit_options: Any):
    """`config.ae_epochs` epochs with beta 0 on single images, then `config.epochs` VAE epochs (on `pairs`
    when given, each differing in `pair_changes` factors when known) with the KL schedules; one FitResult
    over both, the start's epochs first."""
    from keras_ae import training

    vae = bundle.autoencoder
    vae.pair_changes = pair_changes
    note = warmup_note(config.kl_warmup, config.epochs, float(vae.initial_beta))
    if note:
        print(note, flush=True)
    start = None
    if config.ae_epochs:
        print(f"training in two stages: {config.ae_epochs} epoch(s) as a plain autoencoder (beta 0, single images; "
              f"--ae-epochs), then {config.epochs} as a VAE{' on pairs' if pairs is not None else ''}", flush=True)
        vae.beta.assign(0.0)
        start = training.fit(bundle, x_train, x_val, epochs=config.ae_epochs, **fit_options)
        vae.beta.assign(vae.initial_beta)
        # pairs have one axis more than the images the start was traced for: trace the steps afresh
        vae.train_function = vae.test_function = None
    result = training.fit(bundle, x_train if pairs is None else pairs, x_val, epochs=config.epochs,
                          callbacks=vae_callbacks(config), train_eval=x_train, **fit_options)
    if start is None:
        return result
    history = {key: start.history.get(key, []) + values for key, values in result.history.items()}
    return training.FitResult(history, start.seconds + result.seconds, start.epochs + result.epochs,
                              stages=(("autoencoder (beta 0)", start.epochs), ("VAE", result.epochs)))


def weak_supervision(pairs: int, changes: int | None) -> str:
    """How a VAE trained on pairs, in words, for metrics.json."""
    if changes is None:
        return (f"{pairs} training pairs that differ in some factors (Ada-GVAE: the dimensions on which a pair's "
                "posteriors differ least are averaged)")
    return (f"{pairs} training pairs that differ in {changes} factor(s) (Ada-GVAE with known k = {changes}: all but "
            f"the {changes} dimension(s) on which a pair's posteriors differ most are averaged)")
