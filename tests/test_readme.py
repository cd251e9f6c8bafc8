"""README.md tells the truth: its test command is CI's, and its quickstart runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands():
    block = re.search(r"## Set-up and the two commands.*?```bash\n(.*?)```", README, re.S)
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_setup_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "icnet demo --out" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    test_cmd = _commands()[1]
    install, run = [c.strip() for c in test_cmd.split("&&")]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install.replace("python -m pip install -e", "") in ci
    assert re.search(rf"^{re.escape(run)}$", ci, re.M), "CI must run the README test command"


def test_quickstart_runs(capsys):
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", README, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "credibly badly served" in out
