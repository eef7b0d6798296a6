"""CI runs the README's two commands as written: `.ci/run` reads them from README.md."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def marked_block(text: str, name: str) -> str:
    """The lines between the README's markers of ``name``, without the code fence (read line
    by line, independently of .ci/readme_commands.py's regular expression)."""
    lines = text.splitlines()
    start = lines.index(f"<!-- naskit:{name}-command -->")
    end = lines.index(f"<!-- /naskit:{name}-command -->")
    body = [line for line in lines[start + 1:end] if line.strip() and not line.startswith("```")]
    assert len(body) == 1, body
    return body[0].strip()


def ci_commands(root: Path) -> list[str]:
    out = subprocess.run(["bash", str(root / ".ci" / "run"), "--print-commands"], capture_output=True, text=True,
                         check=True)
    return out.stdout.splitlines()


def test_ci_runs_the_readme_commands_verbatim_with_only_smoke_appended():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    main, test = marked_block(readme, "main"), marked_block(readme, "test")
    assert ci_commands(ROOT) == [main + " --smoke", test]
    assert main.endswith("naskit lessons run --out lessons_out")
    assert "pytest" in test


def test_ci_follows_an_edited_readme(tmp_path):
    """.ci/run derives its commands from the README: edit the README and CI runs the edit (a
    .ci/run with a hard-coded command fails here)."""
    shutil.copytree(ROOT / ".ci", tmp_path / ".ci")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    main = marked_block(readme, "main")
    edited = readme.replace(main, main.replace("pip install -e .", "pip install -e . --no-deps"))
    (tmp_path / "README.md").write_text(edited, encoding="utf-8")
    commands = ci_commands(tmp_path)
    assert commands[0] == marked_block(edited, "main") + " --smoke"
    assert commands[0] != marked_block(readme, "main") + " --smoke"


def test_a_readme_without_markers_stops_ci(tmp_path):
    shutil.copytree(ROOT / ".ci", tmp_path / ".ci")
    (tmp_path / "README.md").write_text("# no commands here\n", encoding="utf-8")
    out = subprocess.run(["bash", str(tmp_path / ".ci" / "run"), "--print-commands"], capture_output=True, text=True)
    assert out.returncode != 0
    assert "must mark exactly one main command block" in out.stderr
