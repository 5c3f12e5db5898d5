"""Reproduce the 10-armed testbed of Sutton and Barto (2nd ed., chapter 2).

Runs every textbook method for 2000 runs x 1000 steps (seed 0) and compares
the mean reward and % optimal action over steps 951-1000 with the published
values (tolerance +-0.03 reward, +-3 points). Then a few Boltzmann schedules,
for which there is no published number. Prints a Markdown table with wall
times and writes it to ``benchmarks/results/bandits.md``, naming any checked
method outside the tolerance (the tests in ``tests/test_bandits.py`` are the
pass/fail check; this script only reports).

    .venv/bin/python benchmarks/bench_bandits.py [--runs 2000] [--steps 1000]
"""

from __future__ import annotations

import os

# One core: the claim under test is "2000 x 1000 in well under 30 s on one core".
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from softmax.bandits import (  # noqa: E402
    TEXTBOOK,
    BanditResult,
    Exponential,
    Linear,
    Logarithmic,
    Method,
    SoftmaxPolicy,
    Testbed,
    method,
    simulate,
)
from softmax.bandits.textbook import OPTIMAL_TOLERANCE, REWARD_TOLERANCE  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results" / "bandits.md"


def extra_methods(steps: int) -> list[Method]:
    """Boltzmann schedules that anneal beta over the whole run (no published numbers)."""
    schedules = {
        "linear": Linear(0.5, 8.0, steps=steps),
        "exponential": Exponential(0.5, 8.0, steps=steps),
        "logarithmic": Logarithmic(1.0),
    }
    return [Method(f"softmax-{n}", SoftmaxPolicy(beta=s), Testbed()) for n, s in schedules.items()]


def row(m: Method, r: BanditResult) -> tuple[list[str], bool]:
    """Table cells for one method and whether it is within the tolerance."""
    reward, optimal = r.final_reward(), r.final_optimal()
    ok = (m.reward is None or abs(reward - m.reward) <= REWARD_TOLERANCE) and (
        m.optimal is None or abs(optimal - m.optimal) <= OPTIMAL_TOLERANCE
    )
    if m.reward is None and m.optimal is None:
        verdict = "-"
    elif m.checked:
        verdict = "yes" if ok else "**no**"
    else:
        verdict = ("yes" if ok else "no") + " (approx. reference)"
    label = m.label + (" (q* ~ N(4, 1))" if m.testbed.mean != 0 else "")
    cells = [
        label,
        f"{reward:.3f}",
        "-" if m.reward is None else f"{m.reward:.2f}",
        f"{100 * optimal:.1f}",
        "-" if m.optimal is None else f"{100 * m.optimal:.0f}",
        verdict,
        f"{r.seconds:.2f}",
    ]
    return cells, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()

    header = [
        "method",
        f"reward@{args.steps} (mean of last 50 steps)",
        "textbook",
        f"% optimal@{args.steps}",
        "textbook",
        "within tolerance?",
        "seconds",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    outside = []
    checked = 0
    start = time.perf_counter()
    for m in [method(spec) for spec in TEXTBOOK] + extra_methods(args.steps):
        r = simulate(m.policy, m.testbed, runs=args.runs, steps=args.steps, seed=args.seed)
        cells, ok = row(m, r)
        checked += m.checked
        if m.checked and not ok:
            outside.append(
                f"{m.label}: reward {r.final_reward() - (m.reward or r.final_reward()):+.3f}, "
                f"% optimal {100 * (r.final_optimal() - m.optimal):+.1f} points"
            )
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    total = time.perf_counter() - start

    about = (
        f"{args.runs} runs x {args.steps} steps, seed {args.seed}, one thread; "
        f"total wall time {total:.1f} s. Tolerance +-{REWARD_TOLERANCE} reward, "
        f"+-{100 * OPTIMAL_TOLERANCE:.0f} points of % optimal. "
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{platform.machine()} ({os.cpu_count()} CPUs)."
    )
    verdict = f"{checked - len(outside)} of {checked} textbook methods within the tolerance"
    verdict += "; outside: " + "; ".join(outside) + "." if outside else "."
    report = "\n".join(
        [
            "# The 10-armed testbed (Sutton and Barto, chapter 2)",
            "",
            "Written by `benchmarks/bench_bandits.py`. " + about,
            "",
            *lines,
            "",
            verdict,
            "",
        ]
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"\n{verdict}\n{about}\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
