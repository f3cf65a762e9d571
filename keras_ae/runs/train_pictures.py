"""The pictures of a training run: loss curves, reconstructions and, for a VAE, the latent space
(scatter, traversal, prior samples, the 2-D manifold over the region the codes use) and factor correlations."""

from __future__ import annotations


def write(config, bundle, history, x_in, x_clean, labels, run_dir, value_range, codes=None,
          dim_names=None, dataset: str | None = None, label_names=None, label_title: str = "label",
          stages=None) -> list[str]:
    """loss.png, reconstruction.png and, for a VAE, latent.png, latent_traversal.png, samples.png,
    interpolation.png and manifold.png (2-D codes). `codes`: z_mean of `x_clean` when already computed;
    `dim_names` ({dimension: name}) labels the traversal's rows (the factor each dimension tracks); `dataset`:
    the name of the data trained on (the offline stand-in when the asked dataset could not be downloaded), default
    `config.dataset`; `label_names` (one per label) and `label_title` name the classes in latent.png; `stages`
    ((name, epochs run), ...) marks the stages of a run trained in stages on loss.png."""
    import numpy as np

    from keras_ae import figures, latent
    from keras_ae.latent import figures as latent_figures
    from keras_ae.models.registry import ARCHITECTURES

    names = []
    arch = ARCHITECTURES.get(config.arch)
    denoising = f", denoising ({config.noise_kind} noise {config.noise:g})" if config.noise else ""
    ylabel = ("loss: negative ELBO per image (reconstruction + beta x KL)" if arch.variational else
              "loss: mean squared error" if config.value_range == "-1,1" or arch.loss == "mse" else
              "loss: binary cross-entropy per pixel")
    figures.loss_curves(history, run_dir / "loss.png", title=f"{config.arch} on {dataset or config.dataset}{denoising}",
                        ylabel=ylabel, stages=stages)
    names.append("loss.png")
    n = min(10, len(x_clean))
    recon = bundle.autoencoder.predict(x_in[:n], verbose=0)
    rows, labels_ = ([x_in[:n], x_clean[:n], recon], ["noisy", "clean", "denoised"]) if config.noise \
        else ([x_clean[:n], recon], ["original", "reconstruction"])
    figures.image_rows(rows, labels_, run_dir / "reconstruction.png", value_range=value_range)
    names.append("reconstruction.png")
    if arch.variational:
        z_mean = codes if codes is not None else bundle.encoder.predict(x_clean, verbose=0)[0]
        latent_figures.latent_scatter(z_mean, labels, run_dir / "latent.png", title="VAE latent space (z_mean)",
                                      label_names=label_names, label_title=label_title)
        names.append("latent.png")
        # At most 10 rows: the most used dimensions (largest spread of z_mean over the test images).
        dims = [int(d) for d in np.argsort(z_mean.std(axis=0))[::-1][:10]]
        # Around the mean test code: with a weak KL term the codes need not sit at the prior's mean.
        offsets, traversal = latent.traverse(bundle, dims=sorted(dims), span=2.5, steps=9,
                                             base=z_mean.mean(axis=0))
        latent_figures.traversal_grid(traversal.images, run_dir / "latent_traversal.png",
                             [_row_label(d, dim_names) for d in sorted(dims)], offsets, value_range=value_range,
                             title="Latent traversal: one dimension moved by -2.5..+2.5 from the mean code")
        names.append("latent_traversal.png")
        drawn = latent.sample(bundle, 36, seed=config.seed)
        figures.image_grid(drawn.images.reshape(6, 6, *drawn.images.shape[1:]), run_dir / "samples.png",
                         title="Samples decoded from the prior N(0, I)", value_range=value_range)
        names.append("samples.png")
        pairs = _interpolation_pairs(labels, len(x_clean))  # none with fewer than 2 test images
        rows = [np.concatenate([x_clean[i:i + 1], latent.interpolate(bundle, x_clean[i], x_clean[j], 8).images,
                                x_clean[j:j + 1]]) for i, j in pairs]
        if rows:
            figures.image_rows(rows, [f"test {i} -> {j}" for i, j in pairs], run_dir / "interpolation.png",
                               value_range=value_range, title="Interpolation between two test images (originals "
                               "at the ends, 8 decoded codes on the line between theirs)")
            names.append("interpolation.png")
        if z_mean.shape[1] == 2:
            # Over the region the test codes occupy (2nd to 98th percentile), not a fixed square.
            points, extent = latent.manifold_grid(z_mean, n=15)
            decoded = bundle.decoder.predict(points, verbose=0)
            images = decoded.reshape(15, 15, *decoded.shape[1:])
            figures.image_grid(images, run_dir / "manifold.png", title="Decoded 2-D latent grid (where the codes lie)",
                               extent=extent, value_range=value_range)
            names.append("manifold.png")
    return names


def _interpolation_pairs(labels, n: int, count: int = 3) -> list[tuple[int, int]]:
    """Up to `count` pairs of test images to interpolate between: of different classes when labelled."""
    import numpy as np

    if n < 2:
        return []
    if labels is None:
        return [(2 * k, 2 * k + 1) for k in range(min(count, n // 2))]
    labels = np.asarray(labels)
    pairs = []
    for i in range(n):
        j = next((j for j in range(i + 1, n) if labels[j] != labels[i]), None)
        if j is not None and all(i not in p and j not in p for p in pairs):
            pairs.append((i, j))
        if len(pairs) == count:
            break
    return pairs or [(0, 1)]


def _row_label(dim: int, dim_names: dict | None) -> str:
    name = (dim_names or {}).get(dim)
    return f"z[{dim}]\n{name}" if name else f"z[{dim}]"


def vae_metrics(bundle, x_train, x_test, factors, run_dir, seed, streams) -> tuple[dict, object, dict]:
    """What a VAE run reports beside its pictures, from one pass of the encoder over the test images:
    ``latent_usage``; ``prior_samples`` (not for streamed data); with known factors ``latent_factors``
    (factor_correlation.png), whose one-to-one matching names the traversal's rows.

    Returns (metrics entries, z_mean of the test images, {dimension: "factor |r| 0.93"}).
    """
    import numpy as np

    from keras_ae import figures, latent

    z_mean, z_log_var = (np.asarray(v) for v in bundle.encoder.predict(x_test, verbose=0))
    out = {"latent_usage": latent.latent_usage(z_mean, z_log_var)}
    if not streams:
        out["prior_samples"] = latent.prior_sample_report(bundle, x_train, x_test, n=500, seed=seed)
    dim_names = {}
    if factors is not None:
        names = factors["names"]
        report = latent.factor_report(z_mean, factors["test"][: len(x_test)], names)
        corr = report["abs_correlation"]
        figures.correlation_heatmap(corr, [f"z[{i}]" for i in range(len(corr))], names,
                                    run_dir / "factor_correlation.png",
                                    title="|correlation| of z_mean with the true factors (test images)")
        dim_names = {v["dim"]: f"{name} |r| {v['abs_r']:.2f}" for name, v in report["one_to_one"]["dims"].items()}
        report["traversal_labels"] = {str(d): label for d, label in sorted(dim_names.items())}
        out["latent_factors"] = report
    return out, z_mean, dim_names
