"""Copy the measured lesson run times and peak memory into the README's lesson table, and the
times into each lesson's first cell; with ``--from``, also each full-mode run's results.

    naskit lessons run --smoke --record-times     # measure (nothing else running)
    naskit lessons run --record-times
    python benchmarks/update_lesson_times.py      # then write them where people read them
    python benchmarks/update_lesson_times.py --from FRESH/lessons_out   # or take a run's own record
    python benchmarks/update_lesson_times.py --from OUT --results-only  # a busy machine's run: results only

The seconds come from ``notebooks/run_times.json`` (what ``--record-times`` wrote); nothing here is
typed by hand. A lesson without both figures is left as it is and named.

``--from`` folders also give the ``NN_name.results.json`` of each lesson that ran to its end in full
mode (a lesson's key numbers and the claims its sentences make about them, ``naskit.lessons.results``)
to ``notebooks/results/``,
where ``tests/test_lesson_claims.py`` checks that every claim holds. A results file is taken only
when the executed notebook beside it ran in full mode (its injected parameters do not set
``SMOKE = True``): smoke numbers are too small to bear the claims out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from naskit.lessons.runner import load_run_times

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"(measured with `naskit lessons run (\d\d) \[--smoke\] --record-times` )"
                  r"(\((?:nothing else running|[^)]*upper bounds)\)): \d+ s in smoke mode, \d+ s in full mode\.")
# a lesson row: number, title and question, smoke s, full s (each with an optional footnote mark), MB, MB
ROW = re.compile(r"^\| (\d\d) \|(.*)\| (\d+|\?)([†‡*]?) \| (\d+|\?)([†‡*]?) \| (\d+|\?) \| (\d+|\?) \|$")
SHARED = ("shared", "upper bound")  # words of a machine note that make a time an upper bound


def quiet(t: dict) -> bool:
    """Whether both of a lesson's times were measured with nothing else running."""
    return not any(word in t.get(k, "") for k in ("smoke_machine", "full_machine") for word in SHARED)


def update_readme(times: dict) -> list[str]:
    path = ROOT / "README.md"
    by_number = {stem[:2]: t for stem, t in times.items()}
    changed, lines = [], path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        m = ROW.match(line)
        if m and {"smoke", "full"} <= set(by_number.get(m.group(1), {})):
            t = by_number[m.group(1)]
            memory = [f"{t[k]:.0f}" if k in t else "?" for k in ("smoke_peak_mb", "full_peak_mb")]
            mark = "" if quiet(t) else m.group(4) or m.group(6)  # a footnote says why they are upper bounds
            lines[i] = (f"| {m.group(1)} |{m.group(2)}| {t['smoke']:.0f}{mark} | {t['full']:.0f}{mark} | "
                        f"{memory[0]} | {memory[1]} |")
            changed.append(m.group(1))
    path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def update_notebook(path: Path, t: dict) -> bool:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first = notebook["cells"][0]
    text = "".join(first["source"])
    def how(m) -> str:  # a shared machine's note (how loaded it was) is kept as written
        if quiet(t):
            return "(nothing else running)"
        return m.group(3) if "upper bounds" in m.group(3) else "(on a shared machine: upper bounds)"

    new = LINE.sub(lambda m: f"{m.group(1)}{how(m)}: {t['smoke']:.0f} s in smoke mode, "
                             f"{t['full']:.0f} s in full mode.", text)
    if new == text:
        return False
    first["source"] = new.splitlines(True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def merge(run_folders: list[Path]) -> None:
    """Merge the run_times.json that `naskit lessons run` left in each output folder into
    notebooks/run_times.json (a later folder wins)."""
    import json

    path = ROOT / "notebooks" / "run_times.json"
    times = load_run_times(ROOT / "notebooks")
    for folder in run_folders:
        for stem, entry in load_run_times(folder).items():
            times.setdefault(stem, {}).update(entry)
    path.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def ran_in_full_mode(notebook: Path) -> bool:
    """Whether an executed lesson ran to its end in full mode: its injected parameters cell sets no
    ``SMOKE = True``, every code cell ran and none raised (papermill saves a run in progress too)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    injected = [c for c in code if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    finished = all(c.get("execution_count") is not None for c in code) and \
        not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    return finished and not any(re.search(r"^SMOKE = True$", "".join(c["source"]), re.M) for c in injected)


def copy_results(run_folders: list[Path]) -> list[str]:
    """Copy each full-mode ``NN_name.results.json`` of ``run_folders`` into notebooks/results/
    (a later folder wins); the stems copied."""
    import shutil

    target, copied = ROOT / "notebooks" / "results", []
    for folder in run_folders:
        for results in sorted(folder.glob("[0-9][0-9]_*.results.json")):
            notebook = results.with_name(results.name.replace(".results.json", ".ipynb"))
            if notebook.exists() and ran_in_full_mode(notebook):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(results, target / results.name)
                copied.append(notebook.stem)
    return copied


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="runs", type=Path, nargs="*", default=[],
                        help="output folders of `naskit lessons run` whose times to merge in first")
    parser.add_argument("--results-only", action="store_true",
                        help="copy the --from folders' full-mode results, and leave every time where it is (for "
                             "runs timed on a machine that was busy with other work)")
    args = parser.parse_args()
    if args.runs:
        print("full-mode results copied to notebooks/results/:", ", ".join(copy_results(args.runs)) or "none")
    if args.results_only:
        return
    merge(args.runs)
    times = load_run_times(ROOT / "notebooks")
    complete = {stem: t for stem, t in times.items() if {"smoke", "full"} <= set(t)}
    print("README rows updated:", ", ".join(update_readme(complete)) or "none")
    for stem, t in sorted(complete.items()):
        print(f"{stem}: smoke {t['smoke']:.0f} s, full {t['full']:.0f} s;",
              "first cell updated" if update_notebook(ROOT / "notebooks" / f"{stem}.ipynb", t) else "first cell as is")
    missing = sorted(set(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) - set(complete))
    if missing:
        print("no complete figures for:", ", ".join(missing))


if __name__ == "__main__":
    main()
