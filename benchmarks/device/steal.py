"""CPU steal time between two /proc/stat readings (a virtual machine's vCPUs lent elsewhere).

python benchmarks/device/steal.py save FILE   # first reading
python benchmarks/device/steal.py since FILE  # steal and busy shares since then
"""

import sys


def cpu_line():
    with open("/proc/stat") as handle:
        return [int(x) for x in handle.readline().split()[1:]]


def main():
    action, path = sys.argv[1], sys.argv[2]
    if action == "save":
        with open(path, "w") as handle:
            handle.write(" ".join(map(str, cpu_line())))
        return 0
    with open(path) as handle:
        before = [int(x) for x in handle.read().split()]
    after = cpu_line()
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta[:8]) or 1
    idle = delta[3] + delta[4]
    steal = delta[7] if len(delta) > 7 else 0
    print(f"cpu busy {1 - idle / total:.1%}, steal {steal / total:.1%} of all vCPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
