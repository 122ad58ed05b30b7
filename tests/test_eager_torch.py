"""core.eager_torch: the headless commands train without importing torch's compiler, bit for bit as before, and
the real torch._dynamo still loads (once) the moment anything asks for it.

The stand-in is process-wide, so every check that installs it runs in a subprocess of its own.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.session import Session

# Every optimizer kind, mini-batches with shuffling and a scheduler: all the paths torch.optim takes in eager mode.
RUNS = [("sgd", {"momentum": 0.9, "nesterov": True}, "step"), ("adam", {}, None), ("adamw", {}, None),
        ("rmsprop", {}, None), ("adagrad", {}, None), ("adadelta", {}, None), ("adamax", {}, None),
        ("nadam", {}, None), ("radam", {}, None), ("asgd", {}, None), ("lbfgs", {}, None)]

TRAIN = textwrap.dedent('''
    import json, sys
    import numpy as np
    {prelude}
    import landscape_app as la
    out = {{}}
    for name, options, scheduler in json.loads(sys.argv[1]):
        exp = la.Experiment(data=la.make_dataset("linear", n_samples=30, noise=0.5, seed=3), optimizer=name,
                            lr=0.05, optimizer_options=options, scheduler=scheduler, batch_size=8, shuffle=True,
                            epochs=3, seed=1, start=(-4.0, 3.0))
        out[name] = la.run(exp).params.tolist()
    from landscape_app.core.eager_torch import dynamo_loaded
    print(json.dumps({{"params": out, "dynamo_loaded": dynamo_loaded()}}))
''')


def python(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def train_in_subprocess(prelude: str) -> dict:
    done = python(TRAIN.format(prelude=prelude), json.dumps(RUNS))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_training_without_the_compiler_is_bit_identical():
    deferred = train_in_subprocess("from landscape_app.core.eager_torch import defer_dynamo\n"
                                   "assert defer_dynamo()")
    plain = train_in_subprocess("")
    assert not deferred["dynamo_loaded"]
    assert plain["dynamo_loaded"]                  # what the stand-in saves: torch.optim imports it otherwise
    for name, _, _ in RUNS:
        assert np.array(deferred["params"][name]).shape[0] > 10, name
        # JSON round-trips float64 exactly: equal lists are equal bits.
        assert deferred["params"][name] == plain["params"][name], name


def test_the_real_compiler_loads_on_demand_once():
    code = textwrap.dedent('''
        import sys
        from landscape_app.core.eager_torch import defer_dynamo, dynamo_loaded
        assert defer_dynamo()
        import torch
        opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1)
        opt.zero_grad()
        assert not dynamo_loaded()
        # A submodule import goes through the real package, which imports it once.
        import torch._dynamo.eval_frame as eval_frame
        assert dynamo_loaded() and sys.modules["torch._dynamo"] is torch._dynamo
        assert torch._dynamo.eval_frame is eval_frame is sys.modules["torch._dynamo.eval_frame"]
        assert type(torch._dynamo).__name__ == "module"
        assert torch._dynamo.config.cache_size_limit > 0
        opt.zero_grad()                 # the methods wrapped before still work, now really exempt
        compiled = torch.compile(lambda x: x * 2 + 1, backend="eager")
        assert compiled(torch.ones(2)).tolist() == [3.0, 3.0]
        print("ok")
    ''')
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_any_other_attribute_loads_the_real_module():
    code = textwrap.dedent('''
        import sys
        from landscape_app.core.eager_torch import defer_dynamo, dynamo_loaded
        assert defer_dynamo()
        import torch
        assert not dynamo_loaded()
        import inspect
        code = torch.optim.SGD.__init__.__code__          # getmodule reads every module's __file__ for it
        assert inspect.getmodule(code) is sys.modules["torch.optim.sgd"]
        module = sys.modules["torch._dynamo"]
        assert hasattr(module, "__file__") and hasattr(module, "__path__") and not dynamo_loaded()
        reset = torch._dynamo.reset             # not one of the two eager no-ops
        assert dynamo_loaded() and reset is torch._dynamo.reset
        assert not defer_dynamo()               # too late now: the real one stays
        print("ok")
    ''')
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_export_command_never_imports_the_compiler(tmp_path):
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=20, noise=0.3, seed=2), optimizer="adam",
                        lr=0.5, epochs=6, batch_size=5, grid=la.Grid(resolution=(41, 41)))
    session = tmp_path / "s.toml"
    la.save(Session((exp, exp.replace(optimizer="sgd", lr=0.05))), session)
    out = tmp_path / "out.mp4"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "landscape_app", "export", str(session),
                           "-o", str(out), "--size", "320x180", "--every", "2", "--hold", "0"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}")          # printed in full before the quick exit
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    assert "torch.optim" in imported and "PySide6.QtWidgets" in imported
    assert not any(name.startswith("torch._dynamo") for name in imported)
    assert out.stat().st_size > 0


@pytest.mark.parametrize("command", ["run", "surface"])
def test_other_headless_commands_exit_with_their_status(tmp_path, command):
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=20, noise=0.3, seed=2), epochs=3,
                        grid=la.Grid(resolution=(21, 21)))
    session = tmp_path / "s.toml"
    la.save(Session((exp,)), session)
    out = tmp_path / ("paths.csv" if command == "run" else "surface.npz")
    done = subprocess.run([sys.executable, "-m", "landscape_app", command, str(session), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}") and out.stat().st_size > 0
    bad = subprocess.run([sys.executable, "-m", "landscape_app", command, str(tmp_path / "missing.toml"), "-o",
                          str(out)], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
