"""Start-up time of `dltool --help` and `dltool archcalc vgg19` against `python -c "import tensorflow"`.

Target: each dltool command ≤ 0.2 s wall on a 2-core machine, because neither imports TensorFlow
(whose import alone costs ≈ 3.4 s). Prints the median of several runs and the ratio to the TensorFlow import.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5


def wall(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    py = sys.executable
    baseline = wall([py, "-c", "import tensorflow"])
    label = 'python -c "import tensorflow"'
    print(f"{label:<40} {baseline:6.3f} s  (baseline)")
    for args in (["--help"], ["archcalc", "vgg19"], ["archcalc", "vgg19", "--json"]):
        seconds = wall([py, "-m", "dltool", *args])
        verdict = "ok" if seconds <= 0.2 else "SLOW"
        print(f"{'dltool ' + ' '.join(args):<40} {seconds:6.3f} s  {seconds / baseline:5.1%} of the import  {verdict}")


if __name__ == "__main__":
    main()
