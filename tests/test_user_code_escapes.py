"""Model code cannot end the program: ``sys.exit`` and ``raise KeyboardInterrupt`` in a model file (at import, in its
function, in its forward) are the file's error (``UserCodeError`` naming the file and line; exit status 2 with one
line on the command line, nothing written), while a real Ctrl-C still interrupts."""
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import landscape_app as la
from landscape_app import commands
from landscape_app.core.modelspec import UserCodeError
from landscape_app.core.race_loop import RaceLoop
from landscape_app.core.trajectory import Step

EXIT_AT_IMPORT = """import sys
from torch import nn
sys.exit(0)


def make():
    return nn.Linear(2, 1)
"""

EXIT_IN_FACTORY = """import sys
from torch import nn


def make():
    sys.exit(3)
"""

INTERRUPT_IN_FACTORY = """from torch import nn


def make():
    raise KeyboardInterrupt
"""

EXIT_IN_CHECK = """import sys
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        sys.exit()


def make():
    return Net()
"""

# The first forward (the construction's check, without gradients) passes; training's calls sys.exit.
EXIT_IN_TRAINING = """import sys
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        if torch.is_grad_enabled():
            sys.exit(0)
        return self.lin(x)


def make():
    return Net()
"""

# A real Ctrl-C arriving while the file imports: the signal is sent to this very process, and handled before the
# next line runs.
SIGNALLED_AT_IMPORT = """import os
import signal
import time
os.kill(os.getpid(), signal.SIGINT)
time.sleep(30)


def make():
    pass
"""

# Writes a marker, then waits: a test sends the command's process a real signal meanwhile.
WAITS_AT_IMPORT = """import time
from pathlib import Path
Path({marker!r}).write_text("importing")
time.sleep(60)


def make():
    pass
"""


def _file(tmp_path, name, text) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _experiment(spec):
    return la.Experiment(data=la.make_dataset("moons", n_samples=20, seed=1), model=spec, epochs=1)


@pytest.mark.parametrize("text, line, says", [
    (EXIT_AT_IMPORT, 3, r"sys\.exit\(0\) \(SystemExit\): model code must not end the program \(while importing"),
    (EXIT_IN_FACTORY, 6, r"sys\.exit\(3\) \(SystemExit\).*\(in make\(\)\)"),
    (INTERRUPT_IN_FACTORY, 5, r"KeyboardInterrupt raised by the model code itself \(in make\(\)\)"),
    (EXIT_IN_CHECK, 11, r"sys\.exit \(SystemExit\).*calling the model on the data"),
])
def test_sys_exit_and_keyboard_interrupt_in_a_model_file_are_its_error(tmp_path, text, line, says):
    path = _file(tmp_path, "lesson.py", text)
    with pytest.raises(UserCodeError, match=says) as caught:
        _experiment(f"{path}:make")
    assert str(caught.value).startswith(f"model: {path} line {line}: ")


def test_an_import_that_exits_leaves_the_module_imported_before(tmp_path):
    """The session in use holds the classes of the file's last good import: a failed import gives them back."""
    path = tmp_path / "lesson.py"
    path.write_text(EXIT_IN_FACTORY.replace("sys.exit(3)", "return nn.Linear(2, 1)"))
    _experiment(f"{path}:make")
    (name,) = [n for n, m in sys.modules.items() if n.startswith("landscape_user_")
               and getattr(m, "__file__", None) == str(path)]
    good = sys.modules[name]
    path.write_text(EXIT_AT_IMPORT)
    with pytest.raises(UserCodeError, match="SystemExit"):
        _experiment(f"{path}:make")
    assert sys.modules[name] is good
    other = _file(tmp_path, "other.py", EXIT_AT_IMPORT)
    with pytest.raises(UserCodeError, match="SystemExit"):
        _experiment(f"{other}:make")
    assert not any(getattr(m, "__file__", None) == other for m in list(sys.modules.values()))


def test_a_real_ctrl_c_while_a_model_file_imports_still_interrupts(tmp_path):
    path = _file(tmp_path, "slow.py", SIGNALLED_AT_IMPORT)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        _experiment(f"{path}:make")
    assert signal.getsignal(signal.SIGINT) is before        # the handler watching for it is gone again


def test_in_another_thread_a_keyboard_interrupt_is_the_codes_own(tmp_path):
    """No signal reaches a thread that is not the main one: there, the handlers are left alone."""
    path = _file(tmp_path, "lesson.py", INTERRUPT_IN_FACTORY)
    caught = []
    thread = threading.Thread(target=lambda: caught.append(pytest.raises(UserCodeError, _experiment,
                                                                         f"{path}:make")))
    thread.start()
    thread.join()
    assert caught and "KeyboardInterrupt raised by the model code itself" in str(caught[0].value)


@pytest.mark.parametrize("command", ["run", "surface"])
@pytest.mark.parametrize("text, line", [(EXIT_AT_IMPORT, 3), (EXIT_IN_FACTORY, 6), (EXIT_IN_TRAINING, 13)])
def test_the_commands_exit_2_with_the_file_and_line_and_write_nothing(tmp_path, capsys, command, text, line):
    path = _file(tmp_path, "lesson.py", text)
    out = tmp_path / ("out.csv" if command == "run" else "out.npz")
    argv = [command, "--model", f"{path}:make", "--data", "moons", "-o", str(out)]
    if command == "surface":
        argv += ["--resolution", "5"]
    assert commands.main(argv) == commands.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{path} line {line}: sys.exit" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.py"]      # no temporary left either


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_during_a_model_files_import_interrupts_the_command(tmp_path, signum):
    marker = tmp_path / "importing.txt"
    path = _file(tmp_path, "slow.py", WAITS_AT_IMPORT.format(marker=str(marker)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(la.__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "landscape_app", "run", "--model", f"{path}:make", "--data",
                             "moons", "-o", str(tmp_path / "out.csv")], stderr=subprocess.PIPE, text=True, env=env)
    try:
        while not marker.exists() and proc.poll() is None:
            threading.Event().wait(0.05)
        proc.send_signal(signum)
        err = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    assert proc.returncode == commands.EXIT_INTERRUPTED, err
    assert "interrupted" in err and "UserCodeError" not in err and "KeyboardInterrupt raised" not in err


def _one_step(run_id):
    return Step(iteration=0, epoch=0, params=np.zeros(2), batch_loss=float("nan"), loss=1.0,
                batch=np.zeros(0, dtype=np.int64), run_id=run_id)


@pytest.mark.parametrize("escape, says", [(SystemExit(0), "sys.exit(0) (SystemExit)"),
                                          (KeyboardInterrupt(), "KeyboardInterrupt raised by the model code")])
def test_a_run_whose_code_exits_while_training_fails_in_the_training_thread(escape, says):
    def training():
        yield _one_step(0)
        raise escape

    gen = training()
    next(gen)
    ended, result = [], []
    thread = threading.Thread(target=lambda: result.append(RaceLoop._advance({0: (gen, 10)}, {}, [], 1)))
    thread.start()
    thread.join()
    (ended,) = result
    assert [(e.run_id, e.outcome) for e in ended] == [(0, "failed")] and says in ended[0].message


def test_in_the_main_thread_a_keyboard_interrupt_while_training_passes():
    def training():
        yield _one_step(0)
        raise KeyboardInterrupt

    gen = training()
    next(gen)
    with pytest.raises(KeyboardInterrupt):
        RaceLoop._advance({0: (gen, 10)}, {}, [], 1)
