"""The pictures of a one-class run: score histograms, ROC curve, confusion matrix, ranked test images."""

from __future__ import annotations


def write(config, scorer, splits, val_scores, test_scores, threshold, test, run_dir) -> list[str]:
    """histograms.png, roc.png, confusion.png and ranked.png (most / least anomalous test images, each over what
    the autoencoder saw and reconstructed, or, for a score with a pixel-knn part, over its nearest normal training
    image, which is what that part measures; both where the score has other parts too)."""
    import numpy as np

    from keras_ae import figures
    from keras_ae.anomaly import figures as anomaly_figures
    from keras_ae.data.registry import dataset_entry

    names = dataset_entry(config.dataset).class_names or (f"normal ({config.normal})", "anomaly")
    title = f"{config.score} score, {config.arch} on {config.dataset} (normal = {config.normal})"
    anomaly_figures.score_histograms([("validation", val_scores, splits.y_val, threshold),
                                      ("test", test_scores, splits.y_test, threshold)],
                                     run_dir / "histograms.png", class_names=names, title=title,
                                     rule=config.threshold)
    figures.roc_curves([(f"test, {config.score}", test_scores, splits.y_test)], run_dir / "roc.png",
                       title=f"ROC, {config.dataset} (normal = {config.normal})")
    anomaly_figures.confusion_matrix(test["confusion_matrix"], run_dir / "confusion.png", class_names=names,
                                     title=f"Test set, threshold {threshold:.4g}")
    order = np.argsort(test_scores)
    groups = []
    for label, idx in (("most anomalous", order[::-1][:10]), ("least anomalous", order[:10])):
        shown, recon = scorer.reconstruct(splits.x_test[idx])
        rows = [("image", shown)]
        if "pixel-knn" in scorer.parts_:
            rows.append(("nearest\nnormal", scorer.nearest_normal(splits.x_test[idx])))
        if scorer.parts_ != ["pixel-knn"]:
            rows.append(("reconstr.", recon))
        groups.append((label, rows, test_scores[idx], splits.y_test[idx]))
    anomaly_figures.ranked_images(groups, run_dir / "ranked.png", class_names=names)
    return ["histograms.png", "roc.png", "confusion.png", "ranked.png"]
