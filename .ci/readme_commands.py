"""Print one of the README's two marked commands, exactly as written there.

    python3 .ci/readme_commands.py main    # installs naskit and runs every lesson
    python3 .ci/readme_commands.py test    # installs naskit with its test extra and runs the tests

The README marks each command's code block with HTML comments, `<!-- naskit:main-command -->`
... `<!-- /naskit:main-command -->` (and `test-command`), so `.ci/run` runs what a newcomer
reads. Standard library only: it runs before anything is installed.
"""

import re
import sys
from pathlib import Path

NAMES = ("main", "test")


def readme_command(readme_text: str, name: str) -> str:
    """The single shell line in the ```bash block between the markers of ``name``."""
    if name not in NAMES:
        raise SystemExit(f"unknown command {name!r}; choose one of {', '.join(NAMES)}")
    pattern = rf"<!-- naskit:{name}-command -->\s*```bash\n(.*?)\n```\s*<!-- /naskit:{name}-command -->"
    found = re.findall(pattern, readme_text, flags=re.S)
    if len(found) != 1:
        raise SystemExit(f"README.md must mark exactly one {name} command block, found {len(found)}")
    lines = [line for line in found[0].splitlines() if line.strip()]
    if len(lines) != 1:
        raise SystemExit(f"the README's {name} command must be one line, found {len(lines)}")
    return lines[0].strip()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    readme = Path(__file__).resolve().parent.parent / "README.md"
    print(readme_command(readme.read_text(encoding="utf-8"), sys.argv[1]))
