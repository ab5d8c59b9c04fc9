"""The measuring half of scripts/bench (which installs and builds first); see its header."""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--files", help="benchmark every file in this folder instead of the corpus photos")
parser.add_argument("--min-files", type=int, default=48)
parser.add_argument("--reps", type=int, default=3)
parser.add_argument("--no-browser", action="store_true")
args = parser.parse_args()
corpus = os.environ["IMGBATCH_CORPUS"]
cli = os.path.abspath("target/release/imgbatch")
cores = os.cpu_count() or 1

# Every real camera or phone photo in the corpus of at least 1 MP: JPEGs the reference
# decoder read, not marked invalid or oversized by their source, from the photo collections
# (not the synthetic conformance patterns). Repeated in order to >= --min-files and 300 MP.
PHOTO_DIRS = ("exif-orientation-examples/", "exif-samples/", "libjxl-testdata/jxl/flower/", "link-u-avif/",
              "libavif/dog", "pillow/xmp_test")


def photo_batch():
    if args.files:
        return [os.path.join(args.files, f) for f in sorted(os.listdir(args.files))], f"every file in {args.files}"
    rows = [line.split("\t") for line in open(os.path.join(corpus, "MANIFEST.tsv")).read().splitlines()[1:]]
    photos = [os.path.join(corpus, r[0]) for r in rows
              if r[1] == "JPEG" and r[8] == "ok" and r[2].isdigit() and r[3].isdigit() and int(r[2]) * int(r[3]) >= 1_000_000
              and "source-marks-invalid" not in r[4] and "huge-dimensions" not in r[4] and r[0].startswith(PHOTO_DIRS)]
    return photos, f"{len(photos)} distinct real photos of 1 MP or more from the corpus folders {', '.join(PHOTO_DIRS)}"


def stage(photos, count, min_mp, sizes):
    """Symlinks `photos` cycled into a fresh folder until `count` files and `min_mp` MP."""
    folder = tempfile.mkdtemp(prefix="imgbatch-bench-")
    names, mp, i = [], 0.0, 0
    while len(names) < count or mp < min_mp:
        source = photos[i % len(photos)]
        name = f"{len(names):04d}-{os.path.basename(source)}"
        os.symlink(source, os.path.join(folder, name))
        names.append(name)
        mp += sizes[source] / 1e6
        i += 1
    return folder, names, mp


def quiet():
    """Waits up to a minute for an idle machine, so measurements do not overlap other work."""
    for _ in range(60):
        if os.getloadavg()[0] < cores - 0.5:
            return
        time.sleep(1)
    print(f"warning: load average {os.getloadavg()[0]:.1f} on {cores} cores; measuring anyway", file=sys.stderr)


def run_cli(folder, jobs):
    out = tempfile.mkdtemp(prefix="imgbatch-bench-out-")
    cmd = [cli, folder, "-o", out, "--to", "jpeg", "--max", "2048", "--filter", "lanczos3", "--quality", "80",
           "--jobs", str(jobs), "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
    wall = time.perf_counter() - start
    shutil.rmtree(out)
    report = json.loads(stdout)
    if report["summary"]["failed"]:
        sys.exit(f"bench: {report['summary']['failed']} files failed at --jobs {jobs}")
    return wall, usage.ru_maxrss * 1024, report


photos, selection = photo_batch()
if args.files:
    # For an arbitrary folder, learn each image's size from a native run's report.
    probe = tempfile.mkdtemp(prefix="imgbatch-probe-")
    report = json.loads(subprocess.run([cli, *photos, "-o", probe, "--to", "png", "--size", "orig", "--json", "--overwrite"],
                                       capture_output=True, text=True).stdout)
    shutil.rmtree(probe)
    sizes = {os.path.join(args.files, os.path.basename(f["input"])): f["outputs"][0]["width"] * f["outputs"][0]["height"]
             for f in report["files"] if f["status"] == "converted"}
    photos = [p for p in photos if p in sizes]
else:
    rows = [line.split("\t") for line in open(os.path.join(corpus, "MANIFEST.tsv")).read().splitlines()[1:]]
    sizes = {os.path.join(corpus, r[0]): int(r[2]) * int(r[3]) for r in rows if r[2].isdigit() and r[3].isdigit()}
folder, names, megapixels = stage(photos, args.min_files, 0 if args.files else 300, sizes)

results = {
    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    "machine": {"cores": cores, "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine()),
                "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
    "versions": {"rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
                 "imgbatch": subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.strip()},
    "batch": {"files": len(names), "megapixels": round(megapixels, 1), "selection": selection},
    "task": "long edge 2048 px, Lanczos3, JPEG q80 (mozjpeg-rs balanced: trellis, progressive, 4:2:0)",
    "reps": args.reps, "native": {}, "browser": {},
}

for jobs in sorted({1, cores}):
    run_cli(folder, jobs)  # warm-up: page cache, CPU clocks
    walls, rss, stages = [], 0, None
    for _ in range(args.reps):
        quiet()
        wall, peak, report = run_cli(folder, jobs)
        walls.append(wall)
        rss = max(rss, peak)
        stages = {k: round(sum(f["outputs"][0]["timings"][k] for f in report["files"])) for k in ("decode_ms", "resize_ms", "encode_ms")}
    results["native"][str(jobs)] = {"walls": walls, "median": statistics.median(walls), "peak_rss": rss, "stages_ms": stages}
    print(f"native --jobs {jobs}: median {statistics.median(walls):.2f} s", file=sys.stderr)

if not args.no_browser:
    quiet()
    out = subprocess.run(["node", "scripts/bench-browser.mjs", folder, str(args.reps), str(cores)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench: browser part failed:\n{out.stderr}")
    results["browser"] = json.loads(out.stdout)

os.makedirs("bench-out", exist_ok=True)
json.dump(results, open("bench-out/bench.json", "w"), indent=2)

# --- BENCHMARKS.md ------------------------------------------------------------------------
mp = results["batch"]["megapixels"]
files = results["batch"]["files"]


def row(name, entry, memory):
    med = entry["median"]
    spread = f"{min(entry['walls']):.2f}-{max(entry['walls']):.2f}"
    return f"| {name} | {med:.2f} | {spread} | {files / med:.1f} | {mp / med:.1f} | {memory} |"


lines = [
    "# Benchmarks",
    "",
    f"Measured {results['date']} by `scripts/bench` on {results['machine']['cores']} cores ({results['machine']['cpu']}, "
    f"{results['machine']['memory_gib']} GiB), {results['versions']['rustc']}, {results['versions']['imgbatch']}.",
    "",
    f"Batch: {files} files, {mp} MP in total: {results['batch']['selection']}, repeated. "
    f"Task: {results['task']}. Median of {args.reps} runs after a warm-up; spread is min-max.",
    "",
    "These machines are shared and noisy: read the ratios, not the absolute times.",
    "",
    "| engine | median s | spread s | images/s | MP/s | peak memory |",
    "|---|---|---|---|---|---|",
]
native = results["native"]
for jobs, entry in native.items():
    lines.append(row(f"native CLI, {jobs} thread{'s' if jobs != '1' else ''}", entry, f"{entry['peak_rss'] / 2**20:.0f} MiB RSS"))
browser = results["browser"]
for key, label in (("threaded_1", "browser, threaded, 1 thread"), (f"threaded_{cores}", f"browser, threaded, {cores} threads"),
                   ("fallback", f"browser, fallback pool, {cores} workers")):
    if key in browser:
        entry = browser[key]
        lines.append(row(label, entry, f"{entry['peak_wasm'] / 2**20:.0f} MiB wasm + {entry['js_heap'] / 2**20:.0f} MiB JS heap"))
lines += ["", "Ratios (same run):", ""]
n1, nall = native["1"]["median"], native[str(cores)]["median"]
lines.append(f"- native thread scaling, {cores} threads / 1 thread: {n1 / nall:.2f}x")
if browser:
    b1, ball, fb = browser["threaded_1"]["median"], browser[f"threaded_{cores}"]["median"], browser["fallback"]["median"]
    lines.append(f"- browser thread scaling, {cores} threads / 1 thread: {b1 / ball:.2f}x")
    lines.append(f"- browser threaded / native, {cores} threads (speed): {nall / ball:.2f}x")
    lines.append(f"- browser threaded / native, 1 thread (speed): {n1 / b1:.2f}x")
    lines.append(f"- fallback pool / threaded engine (speed): {ball / fb:.2f}x")
    lines += ["", "Peak wasm memory by batch size (threaded engine, all threads). It is bounded by the files in flight "
              "(two per thread, each read only when admitted), not by the batch length; a short batch may simply "
              "never have its largest photos in flight together:", "",
              "| files | peak wasm memory | JS heap |", "|---|---|---|"]
    for n, m in browser["memory_by_batch"].items():
        lines.append(f"| {n} | {m['peak_wasm'] / 2**20:.0f} MiB | {m['js_heap'] / 2**20:.0f} MiB |")
stages = native[str(cores)]["stages_ms"]
total = sum(stages.values())
lines += ["", f"Where native time goes ({cores} threads, summed over files): "
          + ", ".join(f"{k.removesuffix('_ms')} {v / total:.0%}" for k, v in stages.items()) + "."]
if browser:
    stages = browser[f"threaded_{cores}"]["stages_ms"]
    total = sum(stages.values())
    lines.append(f"Where wasm time goes ({cores} threads, summed over files): "
                 + ", ".join(f"{k.removesuffix('_ms')} {v / total:.0%}" for k, v in stages.items()) + ".")
lines += ["", "## Reproduce", "", "```", "scripts/bench                 # the corpus photo batch, native and browser",
          "scripts/bench --files DIR     # any folder", "scripts/bench --no-browser    # native only", "```",
          "", "Raw numbers: `bench-out/bench.json`.", ""]
open("BENCHMARKS.md", "w").write("\n".join(lines))
print("\n".join(lines))
