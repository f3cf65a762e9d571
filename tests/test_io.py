"""keras_ae.io: atomic writes leave no temporary file and normal permissions."""

import numpy as np
import pytest


def test_atomic_write_leaves_no_temporary_and_normal_permissions(tmp_path):
    import os

    from keras_ae.io import atomic_path, write_json

    write_json(tmp_path / "a.json", {"x": np.float32(1.5)})
    assert (tmp_path / "a.json").read_text().strip().endswith("}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(RuntimeError, match="^interrupted$"):
        with atomic_path(tmp_path / "b.csv") as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
