"""The app lets torch's idle OpenMP threads sleep instead of spinning beside the GUI and training threads."""
import os
import subprocess
import sys

from landscape_app.gui.app import passive_openmp


def test_idle_openmp_threads_sleep_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_entry_point_sets_it_before_torch_is_loaded():
    """libgomp reads the policy once, when torch loads it: the app's entry point must come first."""
    code = ("import os, sys\n"
            "from landscape_app.cli import main\n"
            "assert 'torch' not in sys.modules\n"
            "main(['--list-presets'])\n"
            "print(os.environ.get('OMP_WAIT_POLICY'))\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "PASSIVE"
