"""How long a refused sign-in takes, by reason: unknown name, locked account,
wrong password (and a successful one for comparison).

    .venv/bin/python benchmarks/sign_in_timing.py [--tries 20] [--seed 1]

Each refusal runs the same work (the failure count, the stored hash, one
Argon2id verification — against a dummy hash for an unknown name), so the
three should agree within the spread. Before that change a locked account was
refused in about 1 ms and everything else in about 97 ms, which told an
attacker the account existed and was locked. The attempts are interleaved in
a shuffled order each round so drift in machine load hits every case alike.
Each wrong-password try uses its own account (five failures would lock it and
turn it into the locked case). Prints mean ± standard deviation in ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import auth  # noqa: E402

PASSWORD = "correct-horse-battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as folder:
        store = auth.Accounts(Path(folder) / "accounts.sqlite")
        store.add_user("locked", PASSWORD, "leader")
        store.add_user("ok", PASSWORD, "leader")
        for i in range(args.tries):
            store.add_user(f"wrong{i}", PASSWORD, "leader")
        for _ in range(auth.MAX_FAILURES):
            store.verify("locked", "not-the-password")

        cases = {
            "unknown name": lambda i: store.verify(f"nobody{i}", PASSWORD),
            "locked account": lambda i: store.verify("locked", PASSWORD),
            "wrong password": lambda i: store.verify(f"wrong{i}", "not-the-password"),
            "success (for comparison)": lambda i: store.verify("ok", PASSWORD),
        }
        expected = {"success (for comparison)": True}
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for attempt in cases.values():  # warm-up, untimed
            attempt(args.tries + 1)
        for i in range(args.tries):
            order = list(cases)
            rng.shuffle(order)
            for name in order:
                started = time.perf_counter()
                user = cases[name](i)
                timings[name].append((time.perf_counter() - started) * 1000)
                if (user is not None) != expected.get(name, False):
                    raise SystemExit(f"{name}: unexpected outcome {user!r}")

    print(f"sign-in timing, {args.tries} tries each (ms, mean ± standard deviation)")
    for name, values in timings.items():
        print(f"  {name:<26} {statistics.mean(values):7.1f} ± {statistics.stdev(values):5.1f}"
              f"   (min {min(values):.1f}, max {max(values):.1f})")
    refused = [statistics.mean(timings[n]) for n in list(cases)[:3]]
    print(f"largest gap between refusal reasons: {max(refused) - min(refused):.1f} ms")


if __name__ == "__main__":
    main()
