"""Waits until the machine is quiet before a measurement, and says how quiet it was.

Quiet means: over a one-second sample of /proc/stat, the other work on the machine keeps
less than half a core busy (the one-minute load average lags by a minute, so after our own
two-thread run it stays high long after the machine is idle; it is recorded, not waited on).
Waits at most `max_wait` seconds, then measures anyway. Used by scripts/bench.py, and by
scripts/bench-browser.mjs as `python3 bench/quiet.py MAX_WAIT`, which prints the JSON.
"""
import json, os, sys, time


def busy_cores(seconds=1.0):
    def sample():
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(1, total1 - total0))


def wait_quiet(max_wait=600):
    start = time.time()
    while True:
        busy = busy_cores()
        waited = time.time() - start
        if busy < 0.5 or waited >= max_wait:
            return {"load1": round(os.getloadavg()[0], 2), "busy_cores": round(busy, 2), "waited_s": round(waited),
                    "quiet": busy < 0.5}
        time.sleep(4)


if __name__ == "__main__":
    print(json.dumps(wait_quiet(float(sys.argv[1]) if len(sys.argv) > 1 else 600)))
