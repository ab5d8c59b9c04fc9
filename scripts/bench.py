"""The measuring half of scripts/bench (which installs and builds first); see its header.

Runs imgbatch and its peers on the same staged photo batch in one run, natively and in one
headless Chromium, then scores a sample of every tool's outputs with SSIMULACRA2, sweeps the
JPEG encoder against cjpeg, and writes bench-out/bench.json, BENCHMARKS.md and bench/mps.png.
It measures; it asserts nothing.
"""
import argparse, json, math, os, platform, re, shutil, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from quiet import wait_quiet  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--files", help="benchmark every file in this folder instead of the corpus photos")
parser.add_argument("--min-files", type=int, default=48)
parser.add_argument("--min-mp", type=float, default=300)
parser.add_argument("--reps", type=int, default=3)
parser.add_argument("--no-browser", action="store_true")
parser.add_argument("--no-sweep", action="store_true", help="skip the JPEG encoder vs cjpeg sweep")
parser.add_argument("--only-tradeoff", action="store_true",
                    help="add only the visual-quality trade-off (imgbatch against itself) to the last run's bench-out/bench.json")
parser.add_argument("--quick", action="store_true", help="smoke run: 8 files, 1 rep, small samples (numbers are not meaningful)")
parser.add_argument("--slow-files", type=int, default=12, help="files for the slow peers (ImageMagick, magick-wasm, jSquash)")
parser.add_argument("--quality-files", type=int, default=8, help="distinct photos whose outputs are scored")
parser.add_argument("--max-wait", type=float, default=600, help="longest wait for a quiet machine before each measurement, s")
parser.add_argument("--wait-budget", type=float, default=1200, help="total waiting for quiet over the whole run, s; then measure at once")
args = parser.parse_args()
if args.quick:
    args.min_files, args.min_mp, args.reps, args.slow_files, args.quality_files, args.max_wait, args.wait_budget = 8, 0, 1, 4, 3, 20, 60
args.quality_files = min(args.quality_files, args.slow_files)
corpus = os.environ["IMGBATCH_CORPUS"]
cli = os.path.abspath("target/release/imgbatch")
scorer = os.path.abspath("target/bench-quality/release/bench-quality")
cores = os.cpu_count() or 1
THREADS = sorted({1, cores})
work = tempfile.mkdtemp(prefix="imgbatch-bench-")
outputs_dir = os.path.abspath("bench-out/outputs")
shutil.rmtree(outputs_dir, ignore_errors=True)
IM = {"mogrify": "/usr/bin/mogrify-im6.q16", "convert": "/usr/bin/convert-im6.q16"}  # /usr/local/bin/convert is not ImageMagick here


waited_total = 0.0


def quiet():
    """wait_quiet, bounded per measurement by --max-wait and over the run by --wait-budget."""
    global waited_total
    load = wait_quiet(max(0.0, min(args.max_wait, args.wait_budget - waited_total)))
    waited_total += load["waited_s"]
    return load


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def version(cmd, pattern=r"(.*)"):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
        text = (out.stdout + out.stderr).strip()
        return re.search(pattern, text).group(1).strip()
    except (OSError, AttributeError):
        return "not installed"


# --- the batch --------------------------------------------------------------------------------
# Every real camera or phone photo in the corpus of at least 1 MP: JPEGs the reference decoder
# read, not marked invalid or oversized by their source, from the photo collections (not the
# synthetic conformance patterns). Ordered round-robin over their folders (so any prefix, the
# slow peers' subset and the scored sample, mixes sources and sizes), repeated to
# >= --min-files and --min-mp MP.
PHOTO_DIRS = ("exif-orientation-examples/", "exif-samples/", "libjxl-testdata/jxl/flower/", "link-u-avif/",
              "libavif/dog", "pillow/xmp_test")


def round_robin(paths):
    groups = {}
    for p in paths:
        groups.setdefault(os.path.dirname(p), []).append(p)
    lists = list(groups.values())
    return [lst[i] for i in range(max(map(len, lists))) for lst in lists if i < len(lst)]


def photo_batch():
    """(photos, {photo: (upright width, upright height)}, description)."""
    if args.files:
        photos = [os.path.join(args.files, f) for f in sorted(os.listdir(args.files))]
        # Learn each image's upright size from a native run's report.
        probe = tempfile.mkdtemp(prefix="imgbatch-probe-", dir=work)
        report = json.loads(subprocess.run([cli, *photos, "-o", probe, "--to", "png", "--size", "orig", "--json", "--overwrite"],
                                           capture_output=True, text=True).stdout)
        dims = {os.path.join(args.files, os.path.basename(f["input"])): (f["outputs"][0]["width"], f["outputs"][0]["height"])
                for f in report["files"] if f["status"] == "converted"}
        return [p for p in photos if p in dims], dims, f"every file in {args.files}"
    rows = [line.split("\t") for line in open(os.path.join(corpus, "MANIFEST.tsv")).read().splitlines()[1:]]
    dims, photos = {}, []
    for r in rows:
        if not (r[1] == "JPEG" and r[8] == "ok" and r[2].isdigit() and r[3].isdigit() and r[0].startswith(PHOTO_DIRS)):
            continue
        w, h = int(r[2]), int(r[3])
        if w * h < 1_000_000 or "source-marks-invalid" in r[4] or "huge-dimensions" in r[4]:
            continue
        turned = re.search(r"exif-orientation=([5-8])", r[4]) is not None
        path = os.path.join(corpus, r[0])
        dims[path] = (h, w) if turned else (w, h)
        photos.append(path)
    return (round_robin(photos), dims,
            f"{len(photos)} distinct real photos of 1 MP or more from the corpus folders {', '.join(PHOTO_DIRS)}")


def fit(w, h, kind):
    """Output size of task a (long edge 2048) or b (720 wide), never enlarged; as bench/peers/fit.js."""
    scale = min(1, 2048 / max(w, h) if kind == "a" else 720 / w)
    return [max(1, round(w * scale)), max(1, round(h * scale))]


def stage(photos, count, min_mp, dims):
    """Symlinks `photos` cycled into a fresh folder until `count` files and `min_mp` MP."""
    folder = tempfile.mkdtemp(prefix="batch-", dir=work)
    staged, mp, i = [], 0.0, 0
    while len(staged) < count or mp < min_mp:
        source = photos[i % len(photos)]
        name = f"{len(staged):04d}-{os.path.basename(source)}"
        os.symlink(source, os.path.join(folder, name))
        staged.append({"name": name, "source": source, "mp": dims[source][0] * dims[source][1] / 1e6,
                       "target_a": fit(*dims[source], "a"), "target_b": fit(*dims[source], "b")})
        mp += staged[-1]["mp"]
        i += 1
    return folder, staged


def subset(n):
    """A folder with the first n staged files (the slow peers' batch)."""
    if n >= len(staged):
        return folder
    sub = tempfile.mkdtemp(prefix=f"batch{n}-", dir=work)
    for f in staged[:n]:
        os.symlink(f["source"], os.path.join(sub, f["name"]))
    return sub


photos, dims, selection = photo_batch()
folder, staged = stage(photos, args.min_files, 0 if args.files else args.min_mp, dims)
megapixels = sum(f["mp"] for f in staged)
keep = [f["name"] for f in staged[:args.quality_files]]
for f in staged:  # page cache: every measurement reads warm files
    with open(f["source"], "rb") as fh:
        fh.read()


# --- native measurements ------------------------------------------------------------------------
def tree_rss(pid):
    total, stack = 0, [str(pid)]
    while stack:
        p = stack.pop()
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p}/status").read()).group(1)) * 1024
            for tid in os.listdir(f"/proc/{p}/task"):
                stack += open(f"/proc/{p}/task/{tid}/children").read().split()
        except (OSError, AttributeError):
            pass
    return total


def run_procs(cmds, env, out):
    """Runs `cmds` in parallel; returns wall seconds, peak RSS of all their trees together, stdout of the first."""
    logs = [open(os.path.join(work, f"stdout-{i}"), "w+") for i in range(len(cmds))]
    errors = [open(os.path.join(work, f"stderr-{i}"), "w+") for i in range(len(cmds))]
    start = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=logs[i], stderr=errors[i], env={**os.environ, **env}) for i, c in enumerate(cmds)]
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], sum(tree_rss(p.pid) for p in procs))
            done.wait(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    codes, own_peak = [], 0
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        codes.append(p.returncode)
        own_peak = max(own_peak, usage.ru_maxrss * 1024)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if any(codes):
        failed = errors[codes.index(next(c for c in codes if c))]
        failed.seek(0)
        raise RuntimeError(f"{cmds[0][0]} exited with {codes}: {failed.read()[-300:]}")
    logs[0].seek(0)
    return wall, max(peak[0], own_peak), logs[0].read()


def chunks(folder_, n):
    files = sorted(os.listdir(folder_))
    return [[os.path.join(folder_, f) for f in files[i::n]] for i in range(n)]


def native_cmds(tool, n, kind, fmt, src, out):
    """(commands, environment) for one tool: n threads, task kind, format fmt, folder src -> out."""
    ext = "webp" if fmt == "webp" else "jpg"
    if tool == "imgbatch":
        sizes = [a for size in TASK_SIZES[kind] for a in ("--size", size)]
        return [[cli, src, "-o", out, "--to", fmt, *sizes, "--filter", "lanczos3",
                 "--quality", "80", "--jobs", str(n), "--json"]], {}
    if tool.startswith("sharp"):
        return [["node", "bench/peers/sharp.mjs", src, out, kind, fmt, str(n), "mozjpeg" if tool == "sharp-mozjpeg" else ""]], \
            {"UV_THREADPOOL_SIZE": str(n)}
    if tool == "vipsthumbnail":
        size = "2048x2048>" if kind == "a" else "720x>"
        return [["vipsthumbnail", *part, "-s", size, "-o", f"{out}/%s.{ext}[Q=80]"] for part in chunks(src, n)], {"VIPS_CONCURRENCY": "1"}
    if tool == "imagemagick":
        size = "2048x2048>" if kind == "a" else "720x>"
        return [[IM["mogrify"], "-path", out, "-auto-orient", "-filter", "Lanczos", "-resize", size, "-quality", "80",
                 "-format", ext, *part] for part in chunks(src, n)], {"MAGICK_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
    raise ValueError(tool)


def keep_outputs(label, out, ext):
    dest = os.path.join(outputs_dir, label)
    os.makedirs(dest, exist_ok=True)
    for name in keep:
        stem = os.path.splitext(name)[0]
        if os.path.exists(os.path.join(out, f"{stem}.{ext}")):
            shutil.copy(os.path.join(out, f"{stem}.{ext}"), dest)


def measure_native(entry):
    src = subset(entry["limit"]) if entry.get("limit") else folder
    count = len(os.listdir(src))
    warm = subset(min(4, count))
    out = tempfile.mkdtemp(prefix="out-", dir=work)
    cmds, env = native_cmds(entry["tool"], entry["threads"], entry["kind"], entry["format"], warm, out)
    run_procs(cmds, env, out)  # warm-up: binaries, libraries, clocks
    runs = []
    for r in range(args.reps):
        shutil.rmtree(out)
        os.makedirs(out)
        load = quiet()
        cmds, env = native_cmds(entry["tool"], entry["threads"], entry["kind"], entry["format"], src, out)
        wall, peak, stdout = run_procs(cmds, env, out)
        run = {"wall": wall, "peak_rss": peak, "load": load, "bytes": sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)),
               "outputs": len(os.listdir(out))}
        if entry["tool"] == "imgbatch":
            report = json.loads(stdout)
            if report["summary"]["failed"]:
                raise RuntimeError(f"imgbatch: {report['summary']['failed']} files failed")
            run["stages_ms"] = {k: sum(f["outputs"][0]["timings"][k] for f in report["files"]) for k in ("decode_ms", "resize_ms", "encode_ms")}
            run["file_ms"] = sum(f["ms"] for f in report["files"])
        runs.append(run)
    if entry.get("keep"):
        keep_outputs(entry["label"], out, "webp" if entry["format"] == "webp" else "jpg")
    shutil.rmtree(out)
    walls = [r["wall"] for r in runs]
    result = {**entry, "files": count, "walls": walls, "median": statistics.median(walls), "loads": [r["load"] for r in runs],
              "peak_rss": max(r["peak_rss"] for r in runs), "bytes": runs[-1]["bytes"], "outputs": runs[-1]["outputs"]}
    for k in ("stages_ms", "file_ms"):
        if k in runs[-1]:
            result[k] = runs[-1][k]
    log(f"{entry['label']}: median {result['median']:.2f} s over {count} files")
    return result


# Tasks: (a) long edge 2048, (b) 720 wide (sharp's published task), (c) three outputs per photo
# (2048 and 1024 long edge and a 320x320 cover crop: a website's set, where decoding once
# shows, and where shrink-on-load would), all Lanczos3 JPEG q80; and (a) as lossy WebP q80.
# Thread scaling (1 and all cores) on task a JPEG for every
# tool; the others at all cores. Task c runs the tools that make several sizes from one decode.
TASKS = [("a", "jpeg"), ("b", "jpeg"), ("c", "jpeg"), ("a", "webp")]
TASK_SIZES = {"a": ["2048"], "b": ["w720"], "c": ["2048", "1024", "320x320:cover"]}
SEVERAL_SIZES = {"imgbatch", "sharp", "canvas"}
NATIVE_TOOLS = [("imgbatch", "imgbatch CLI", None), ("sharp", "sharp", None), ("sharp-mozjpeg", "sharp, mozjpeg: true", None),
                ("vipsthumbnail", "vipsthumbnail", None), ("imagemagick", "ImageMagick (mogrify)", args.slow_files)]
native_plan = []
for tool, name, limit in NATIVE_TOOLS:
    for kind, fmt in TASKS:
        if (tool == "sharp-mozjpeg" and (kind, fmt) != ("a", "jpeg")) \
                or (kind == "c" and tool not in SEVERAL_SIZES):
            continue
        for n in (THREADS if (kind, fmt) == ("a", "jpeg") else [cores]):
            native_plan.append({"label": f"native-{tool}-{kind}-{fmt}-{n}", "tool": tool, "name": name, "threads": n, "kind": kind,
                                "format": fmt, "limit": limit, "keep": n == cores and kind != "c"})

def score(pairs):
    """{output path: {score, oriented, ...}} from bench-quality for (reference, output) pairs."""
    if not pairs:
        return {}
    out = subprocess.run([scorer], input="".join(f"{a}\t{b}\n" for a, b in pairs), capture_output=True, text=True, check=True)
    return {r["output"]: r for r in map(json.loads, out.stdout.splitlines())}


def visual_tradeoff():
    """imgbatch's --visual-quality 80 against a fixed --quality 80, in JPEG and WebP: each distinct
    photo once at long edge 2048 on every core. Wall time, bytes, the quality each photo got, and
    the spread of every output's SSIMULACRA2 from bench/quality (the fixed quality's problem is
    that spread; the target's answer is a floor)."""
    distinct = list(dict.fromkeys(f["source"] for f in staged))[:4 if args.quick else None]
    src = tempfile.mkdtemp(prefix="tradeoff-", dir=work)
    for i, p in enumerate(distinct):
        os.symlink(p, os.path.join(src, f"{i:03d}-{os.path.basename(p)}"))
    data = {"photos": len(distinct), "megapixels": round(sum(dims[p][0] * dims[p][1] for p in distinct) / 1e6, 1), "runs": {}}
    for fmt in ("jpeg", "webp"):
        for mode, flags in (("quality 80", ["-q", "80"]), ("visual quality 80", ["--visual-quality", "80"])):
            out = tempfile.mkdtemp(prefix="tradeoff-out-", dir=work)
            load = quiet()
            start = time.perf_counter()
            run = subprocess.run([cli, src, "-o", out, "--to", fmt, "--size", "2048", "--json", *flags], capture_output=True, text=True)
            wall = time.perf_counter() - start
            files = [f for f in json.loads(run.stdout)["files"] if f["status"] == "converted"]
            paths = [os.path.abspath(f["outputs"][0]["path"]) for f in files]
            scored = score([(f["input"], p) for f, p in zip(files, paths)])
            good = [scored[p]["score"] for p in paths if "score" in scored.get(p, {})]
            chosen = sorted(n["quality"] for f in files for n in f["outputs"][0]["notes"] if n["code"] == "quality-for-look")
            data["runs"][f"{fmt} {mode}"] = {
                "format": fmt, "mode": mode, "seconds": round(wall, 2), "converted": len(files), "load": load,
                "kb_per_image": round(sum(map(os.path.getsize, paths)) / len(paths) / 1e3, 1),
                "score": {"mean": round(statistics.mean(good), 2), "min": round(min(good), 2), "max": round(max(good), 2),
                          "stdev": round(statistics.pstdev(good), 2), "scored": len(good)},
                "quality": {"min": chosen[0], "median": chosen[len(chosen) // 2], "max": chosen[-1]} if chosen else None}
            log(f"tradeoff {fmt} {mode}: {wall:.2f} s, {data['runs'][f'{fmt} {mode}']['kb_per_image']} KB per image")
    return data


if args.only_tradeoff:
    results = json.load(open("bench-out/bench.json"))
    results["visual_tradeoff"] = visual_tradeoff()
    json.dump(results, open("bench-out/bench.json", "w"), indent=2)
    subprocess.run([os.environ.get("BENCH_PYTHON", sys.executable), "bench/report.py", "bench-out/bench.json"], check=True)
    sys.exit(0)

results = {
    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    "machine": {"cores": cores, "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine()),
                "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                "os": version(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"])},
    "versions": {"rustc": version(["rustc", "--version"]), "imgbatch": version([cli, "--version"]),
                 "node": version(["node", "--version"]),
                 "sharp": version(["node", "-p", "const s=require('./bench/node_modules/sharp');s.versions.sharp+' (libvips '+s.versions.vips+')'"]),
                 "vipsthumbnail": version(["vipsthumbnail", "--vips-version"]),
                 "imagemagick": version([IM["convert"], "-version"], r"Version: ImageMagick (\S+)"),
                 "cjpeg": version(["cjpeg", "-version"], r"(libjpeg-turbo version \S+)")},
    "batch": {"files": len(staged), "megapixels": round(megapixels, 1), "selection": selection, "slow_files": min(args.slow_files, len(staged)),
              "slow_megapixels": round(sum(f["mp"] for f in staged[:args.slow_files]), 1), "quality_files": len(keep)},
    "argv": sys.argv[1:], "per_file_mp": [round(f["mp"], 4) for f in staged], "reps": args.reps, "quick": args.quick, "native": {}, "browser": {}, "errors": {},
}
for pkg in ("wasm-vips", "@imagemagick/magick-wasm", "@jsquash/jpeg", "@jsquash/resize", "@jsquash/webp", "playwright-core"):
    try:
        results["versions"][pkg] = json.load(open(f"bench/node_modules/{pkg}/package.json"))["version"]
    except OSError:
        results["versions"][pkg] = "not installed"

for entry in native_plan:
    try:
        results["native"][entry["label"]] = measure_native(entry)
    except Exception as e:  # one peer failing must not lose the others' numbers
        results["errors"][entry["label"]] = str(e)[:400]
        log(f"{entry['label']} failed: {e}")

# --- browser measurements -----------------------------------------------------------------------
if not args.no_browser:
    spec = {"folder": folder, "reps": args.reps, "cores": cores, "max_wait": args.max_wait, "wait_budget": max(0.0, args.wait_budget - waited_total), "outdir": outputs_dir, "keep": keep,
            "photos": [{k: f[k] for k in ("name", "mp", "target_a", "target_b")} for f in staged],
            "imgbatch": [{"label": "browser-imgbatch-a-jpeg-1", "name": "imgbatch, threaded", "query": "?threads=1", "kind": "a", "format": "jpeg", "size": "2048", "threads": 1, "keep": False},
                         {"label": f"browser-imgbatch-a-jpeg-{cores}", "name": "imgbatch, threaded", "query": f"?threads={cores}", "kind": "a", "format": "jpeg", "size": "2048", "threads": cores, "keep": True},
                         {"label": f"browser-imgbatch-b-jpeg-{cores}", "name": "imgbatch, threaded", "query": f"?threads={cores}", "kind": "b", "format": "jpeg", "size": "w720", "threads": cores, "keep": True},
                         {"label": f"browser-imgbatch-c-jpeg-{cores}", "name": "imgbatch, threaded", "query": f"?threads={cores}", "kind": "c", "format": "jpeg", "size": TASK_SIZES["c"], "threads": cores, "keep": False},
                         {"label": f"browser-imgbatch-a-webp-{cores}", "name": "imgbatch, threaded", "query": f"?threads={cores}", "kind": "a", "format": "webp", "size": "2048", "threads": cores, "keep": True},
                         {"label": f"browser-imgbatch_fallback-a-jpeg-{cores}", "name": "imgbatch, fallback pool", "query": f"?engine=fallback&threads={cores}", "kind": "a", "format": "jpeg", "size": "2048", "threads": cores, "keep": True}],
            "peers": [], "memory_by_batch": [] if args.quick else [10, 200]}
    BROWSER_PEERS = [("wasm-vips", "wasm-vips (1 instance, threaded)", None), ("canvas", "canvas (createImageBitmap + OffscreenCanvas)", None),
                     ("magick-wasm", "magick-wasm", args.slow_files), ("jsquash", "jSquash", args.slow_files)]
    for peer, name, limit in BROWSER_PEERS:
        for kind, fmt in TASKS:
            if kind == "c" and peer not in SEVERAL_SIZES:
                continue
            for n in (THREADS if (kind, fmt) == ("a", "jpeg") else [cores]):
                # wasm-vips is one threaded instance; the others run one single-threaded worker per thread.
                workers, threads = (1, n) if peer == "wasm-vips" else (n, 1)
                spec["peers"].append({"label": f"browser-{peer}-{kind}-{fmt}-{n}", "name": name, "peer": peer, "workers": workers, "threads": threads,
                                      "kind": kind, "format": fmt, "limit": limit, "n": n, "keep": n == cores and kind != "c"})
    spec_path = os.path.join(work, "browser-spec.json")
    json.dump(spec, open(spec_path, "w"))
    out = subprocess.run(["node", "scripts/bench-browser.mjs", spec_path], stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        results["errors"]["browser"] = f"scripts/bench-browser.mjs exited with {out.returncode}"
    else:
        b = json.loads(out.stdout)
        results["versions"]["chromium"] = b["chromium"]
        results["errors"].update(b["errors"])
        results["browser"] = {**b["imgbatch"], **b["peers"]}
        for entry in results["browser"].values():
            entry["threads"] = entry.get("n", entry.get("threads"))  # a peer's thread count is its workers x threads
        results["memory_by_batch"] = b["memory_by_batch"]

# --- quality: SSIMULACRA2 of each tool's outputs against the reference resize -------------------
source_of = {f["name"]: f["source"] for f in staged}


pairs = []
for label in sorted(os.listdir(outputs_dir)) if os.path.isdir(outputs_dir) else []:
    for f in os.listdir(os.path.join(outputs_dir, label)):
        name = next((n for n in keep if os.path.splitext(n)[0] == os.path.splitext(f)[0]), None)
        if name:
            pairs.append((source_of[name], os.path.join(outputs_dir, label, f)))
log(f"scoring {len(pairs)} outputs with SSIMULACRA2")
scores = score(pairs)
for group in ("native", "browser"):
    for label, entry in results[group].items():
        rows = [v for k, v in scores.items() if os.path.basename(os.path.dirname(k)) == label]
        good = [r["score"] for r in rows if "score" in r]
        if good:
            entry["quality"] = {"mean": round(statistics.mean(good), 2), "min": round(min(good), 2), "scored": len(good),
                                "not_upright": sum(1 for r in rows if r.get("oriented") is False),
                                "errors": [r["error"] for r in rows if "error" in r][:3]}
# Quality does not depend on the thread count: copy the all-cores score to the 1-thread row.
for group in ("native", "browser"):
    for label, entry in results[group].items():
        twin = results[group].get(re.sub(r"-\d+$", f"-{cores}", label))
        if "quality" not in entry and twin and "quality" in twin:
            entry["quality"] = twin["quality"]


# --- the JPEG encoder against cjpeg -------------------------------------------------------------
def interpolate(points, target):
    """log(bytes) at SSIMULACRA2 `target`, linearly between the two nearest sweep points; None outside."""
    points = sorted(points)
    for (s0, b0), (s1, b1) in zip(points, points[1:]):
        if s0 <= target <= s1 and s1 > s0:
            return math.exp(math.log(b0) + (math.log(b1) - math.log(b0)) * (target - s0) / (s1 - s0))
    return None


def encoder_sweep():
    qualities = [50, 70, 85, 95] if args.quick else [40, 55, 70, 80, 88, 95]
    big = [p for p in photos if max(dims[p]) > 2048] or photos
    chosen = big[:2 if args.quick else 5]
    root = tempfile.mkdtemp(prefix="sweep-", dir=work)
    # PPM copies for cjpeg live apart from the PNGs: sharp reads every file in ref and has no PPM reader.
    src, ref, ppm = os.path.join(root, "src"), os.path.join(root, "ref"), os.path.join(root, "ppm")
    os.makedirs(src)
    os.makedirs(ppm)
    for i, p in enumerate(chosen):
        os.symlink(p, os.path.join(src, f"{i:02d}-{os.path.basename(p)}"))
    subprocess.run([cli, src, "-o", ref, "--to", "png", "--size", "2048", "--json"], capture_output=True, check=True)
    refs = sorted(os.path.join(ref, f) for f in os.listdir(ref))
    for r in refs:
        subprocess.run([IM["convert"], r, os.path.join(ppm, os.path.basename(r)[:-4] + ".ppm")], check=True)
    data = {"photos": [os.path.relpath(p, corpus) if p.startswith(corpus) else p for p in chosen], "qualities": qualities, "encoders": {}}
    pairs, rows = [], []
    # cjpeg plain is libjpeg-turbo's defaults (baseline, standard Huffman tables), the library
    # Chromium's canvas encoder is built on; sharp is its default JPEG settings.
    cjpeg_flags = {"cjpeg": ["-optimize", "-progressive"], "cjpeg plain": []}
    for enc in (*SWEEP_OURS, "sharp", *cjpeg_flags):
        for q in qualities:
            out = os.path.join(root, f"{enc.replace(' ', '-')}-{q}")
            os.makedirs(out)
            if enc in cjpeg_flags:
                for r in refs:
                    start = time.perf_counter()
                    with open(os.path.join(out, os.path.basename(r)[:-4] + ".jpg"), "wb") as fh:
                        subprocess.run(["cjpeg", "-quality", str(q), *cjpeg_flags[enc], os.path.join(ppm, os.path.basename(r)[:-4] + ".ppm")], stdout=fh, check=True)
                    rows.append((enc, q, os.path.join(out, os.path.basename(r)[:-4] + ".jpg"), r, (time.perf_counter() - start) * 1000))
            elif enc == "sharp":
                # Encode time is not separable from sharp's PNG decode here, so it is not reported.
                subprocess.run(["node", "bench/peers/sharp.mjs", ref, out, "a", "jpeg", "1", "", str(q)], check=True,
                               env={**os.environ, "UV_THREADPOOL_SIZE": "1"})
                for r in refs:
                    rows.append((enc, q, os.path.join(out, os.path.basename(r)[:-4] + ".jpg"), r, None))
            else:
                report = json.loads(subprocess.run([cli, *refs, "-o", out, "--to", "jpeg", "--quality", str(q), "--jpeg-effort", enc.split()[1],
                                                    "--jobs", "1", "--json"], capture_output=True, text=True, check=True).stdout)
                for f in report["files"]:
                    r = os.path.join(ref, os.path.basename(f["input"]))
                    rows.append((enc, q, f["outputs"][0]["path"] if os.path.isabs(f["outputs"][0]["path"]) else os.path.abspath(f["outputs"][0]["path"]),
                                 r, f["outputs"][0]["timings"]["encode_ms"]))
    scored = score([(r[3], r[2]) for r in rows])
    for enc, q, path, r, ms in rows:
        e = data["encoders"].setdefault(enc, {})
        e.setdefault(os.path.basename(r), []).append({"q": q, "bytes": os.path.getsize(path), "score": scored[path].get("score"), "ms": None if ms is None else round(ms, 1)})
    data["matched"] = {}
    for peer in ("cjpeg", "cjpeg plain", "sharp"):
        for target in (70, 80, 90):
            for enc in SWEEP_OURS:
                ratios = []
                for photo, points in data["encoders"][enc].items():
                    mine = interpolate([(p["score"], p["bytes"]) for p in points if p["score"] is not None], target)
                    theirs = interpolate([(p["score"], p["bytes"]) for p in data["encoders"][peer][photo] if p["score"] is not None], target)
                    if mine and theirs:
                        ratios.append(mine / theirs)
                data["matched"][f"{enc} / {peer} @ {target}"] = {
                    "ratio": round(math.exp(statistics.mean(map(math.log, ratios))), 3) if ratios else None, "photos": len(ratios)}
    return data


# Our encoder efforts in the sweep, the default first.
SWEEP_OURS = ("imgbatch fast", "imgbatch balanced", "imgbatch smallest")


if not args.no_sweep:
    try:
        results["encoder_sweep"] = encoder_sweep()
    except Exception as e:
        results["errors"]["encoder_sweep"] = str(e)[:400]
        log(f"encoder sweep failed: {e}")


# --- shrink-on-load: what decoding at 1/2, 1/4, 1/8 in the DCT domain saves (libjpeg-turbo djpeg) ----
def shrink_on_load():
    rows = {"a": [0.0, 0.0, 0.0, 0.0], "b": [0.0, 0.0, 0.0, 0.0]}
    distinct = list(dict.fromkeys(f["source"] for f in staged))
    for p in distinct:
        w, h = dims[p]
        for kind in ("a", "b"):
            tw, th = fit(w, h, kind)
            # The largest DCT scale (1/8, 1/4, 1/2) whose image still covers the target (either orientation).
            m = next(m for m in (8, 4, 2, 1) if max(w, h) // m >= max(tw, th) and min(w, h) // m >= min(tw, th))
            times = []
            for scale in ("8/8", f"1/{m}"):
                best = min(_timed(["djpeg", "-scale", scale, "-outfile", os.devnull, p]) for _ in range(3))
                times.append(best)
            rows[kind][0] += times[0]
            rows[kind][1] += times[1]
            rows[kind][2] += w * h
            rows[kind][3] += (w // m) * (h // m)
    return {kind: {"full_s": round(v[0], 3), "shrunk_s": round(v[1], 3), "ratio": round(v[1] / v[0], 3), "pixels": round(v[3] / v[2], 3),
                   "photos": len(distinct)} for kind, v in rows.items()}


def _timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


try:
    quiet()
    results["shrink_on_load"] = shrink_on_load()
except Exception as e:
    results["errors"]["shrink_on_load"] = str(e)[:400]

try:
    results["visual_tradeoff"] = visual_tradeoff()
except Exception as e:
    results["errors"]["visual_tradeoff"] = str(e)[:400]

os.makedirs("bench-out", exist_ok=True)
json.dump(results, open("bench-out/bench.json", "w"), indent=2)
shutil.rmtree(work, ignore_errors=True)
subprocess.run([os.environ.get("BENCH_PYTHON", sys.executable), "bench/report.py", "bench-out/bench.json"], check=True)
