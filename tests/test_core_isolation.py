"""The core never knows a screen exists: importing and using it loads no Qt, pyqtgraph or OpenGL."""
import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
import numpy as np
import landscape_app as la
import landscape_app.core
from landscape_app.core import training, trajectory, session, tomlio
exp = la.Experiment(data=la.make_dataset("linear", n_samples=20), batch_size=5, epochs=2,
                    grid=la.Grid(resolution=(11, 9)))
path = la.run(exp)
assert path.outcome == "finished" and len(path) == 9, path
used = ["run"]
surface = la.compute_surface(exp)
assert surface.loss.shape == (9, 11)
used.append("compute_surface")
helper = la.LossSurface(2.0, 2.0, exp.data.x, exp.data.y, n_samples=7)
helper.set_para_loss(0.5, -0.5, 1.0)
used.append("LossSurface")
path.to_csv(sys.argv[1] + "/t.csv")
path.to_json(sys.argv[1] + "/t.json", experiment=exp)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "OpenGL")
             or m.startswith("landscape_app.gui") or m.startswith("landscape_app.export"))
print(json.dumps({"bad": bad, "used": used}))
"""


def test_core_imports_no_qt_pyqtgraph_or_opengl(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["bad"] == []
    assert result["used"] == ["run", "compute_surface", "LossSurface"]
