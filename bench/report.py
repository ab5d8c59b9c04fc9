"""Writes BENCHMARKS.md and bench/mps.png from bench-out/bench.json (scripts/bench runs it last;
run it alone to redraw from the same numbers): .venv/bin/python bench/report.py bench-out/bench.json
"""
import json, math, statistics, sys

R = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "bench-out/bench.json"))
cores = R["machine"]["cores"]
staged_mp = R["batch"]["megapixels"] / R["batch"]["files"]  # mean MP per file, for the subsets' labels only
ALL = {**{k: {**v, "where": "native"} for k, v in R["native"].items()}, **{k: {**v, "where": "browser"} for k, v in R["browser"].items()}}


def mp_of(entry):
    """Input megapixels of the files `entry` converted (its first `files` staged files)."""
    return entry.get("mp") or entry["files"] * staged_mp


def mps(entry):
    return entry["mp_total"] / entry["median"]


def get(where, tool, kind="a", fmt="jpeg", n=cores):
    return ALL.get(f"{where}-{tool}-{kind}-{fmt}-{n}")


def ratio(a, b):
    return f"{mps(a) / mps(b):.2f}x" if a and b else "n/a"


# Input MP of each measurement: bench.py records the per-file MP of the staged batch in order.
per_file = R.get("per_file_mp")
for e in ALL.values():
    e["mp_total"] = sum(per_file[:e["files"]]) if per_file else mp_of(e)


def memory(e):
    if e["where"] == "native":
        return f"{e['peak_rss'] / 2**20:.0f} MiB RSS"
    wasm = f"{e['peak_wasm'] / 2**20:.0f} MiB wasm" if e["peak_wasm"] else "no wasm"
    return f"{wasm} + {e['js_heap'] / 2**20:.0f} MiB JS heap; Chromium {e['peak_pss'] / 2**20:.0f} MiB PSS"


def quality(e):
    q = e.get("quality")
    if not q:
        return "n/a"
    s = f"{q['mean']:.1f} (min {q['min']:.1f})"
    return s + (f", {q['not_upright']}/{q['scored']} not upright" if q["not_upright"] else "")


def spread(e):
    return f"{min(e['walls']):.2f}-{max(e['walls']):.2f}"


def table(kind, fmt):
    rows = [e for e in ALL.values() if e["kind"] == kind and e["format"] == fmt]
    rows.sort(key=lambda e: (e["where"] != "native", -mps(e)))
    out = ["| tool | where | threads | files (MP) | median s | spread s | images/s | MP/s | peak memory | KB per image | SSIMULACRA2 mean (min) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in rows:
        out.append(f"| {e['name']} | {e['where']} | {e['threads']} | {e['files']} ({e['mp_total']:.0f}) | {e['median']:.2f} | {spread(e)} | "
                   f"{e['files'] / e['median']:.1f} | {mps(e):.1f} | {memory(e)} | {e['bytes'] / e['files'] / 1000:.0f} | {quality(e)} |")
    return out


TASK_NAMES = {("a", "jpeg"): "Task (a): long edge 2048, Lanczos3, JPEG q80", ("b", "jpeg"): "Task (b), sharp's published task: 720 px wide, Lanczos3, JPEG q80",
              ("c", "jpeg"): "Task (c): three outputs per photo (long edge 2048, long edge 1024, 320x320 cover), Lanczos3, JPEG q80",
              ("a", "webp"): "Task (a) as lossy WebP q80"}
loads = [l for e in ALL.values() for l in e["loads"]]
unquiet = [l for l in loads if not l["quiet"]]
L = [
    "# Benchmarks",
    "",
    f"Measured {R['date']} by `scripts/bench` on {cores} cores ({R['machine']['cpu']}, {R['machine']['memory_gib']} GiB, {R['machine']['os']}).",
    "Versions: " + "; ".join(f"{k}: {v}" for k, v in R["versions"].items()) + ".",
    "",
    f"Batch: {R['batch']['files']} files, {R['batch']['megapixels']} MP in total: {R['batch']['selection']}, repeated. "
    f"The slow peers (ImageMagick natively, magick-wasm and jSquash in the browser) run the first {R['batch']['slow_files']} of them "
    f"({R['batch']['slow_megapixels']} MP), so their per-second figures are from that subset (its photos are drawn round-robin "
    f"from every folder, so it mixes the same sources and sizes). Every figure is the median of {R['reps']} runs after a warm-up; spread is min-max.",
    "",
    f"Before each run the script waits (at most {int(max(l['waited_s'] for l in loads) if loads else 0)} s here, 10 min allowed) until other work keeps "
    f"less than half a core busy. Load average at the start of the runs: {min(l['load1'] for l in loads):.2f} to {max(l['load1'] for l in loads):.2f} "
    f"(it lags by a minute, so it includes our own previous run); {len(unquiet)} of {len(loads)} runs started on a busy machine after the wait ran out. "
    "Every run's load is in the JSON. These machines are shared: read the ratios, all from one run, more than the absolute times."
    if loads else "",
    "",
]
if R.get("argv"):
    L += [f"Run as `scripts/bench {' '.join(R['argv'])}`.", ""]
if R["batch"]["megapixels"] < 300 and "every file in" not in R["batch"]["selection"]:
    L += [f"**Smaller than the default batch** (at least 48 files and 300 MP): this run used {R['batch']['files']} files, "
          f"{R['batch']['megapixels']} MP, to finish in the time available on a machine that was busy with other work.", ""]
if R.get("quick"):
    L += ["**This is a `--quick` smoke run: too few files and one repetition; the numbers show the script works, nothing more.**", ""]

# --- headline ratios ---------------------------------------------------------------------------
ib_all, ib_1 = get("browser", "imgbatch"), get("browser", "imgbatch", n=1)
nat_all, nat_1 = get("native", "imgbatch"), get("native", "imgbatch", n=1)
L += ["## Ratios (same run, speed in MP/s; above 1 means the first is faster)", ""]
for kind, fmt in (("a", "jpeg"), ("b", "jpeg"), ("c", "jpeg"), ("a", "webp")):
    for n in sorted({1, cores}):
        me = get("browser", "imgbatch", kind, fmt, n)
        if not me:
            continue
        parts = []
        for peer in ("wasm-vips", "magick-wasm", "jsquash", "canvas"):
            other = get("browser", peer, kind, fmt, n)
            if other:
                parts.append(f"{other['name']} {ratio(me, other)}")
        if parts:
            task = f"task ({kind})" + (" as WebP" if fmt == "webp" else "")
            L.append(f"- imgbatch in the browser ÷ browser peers, {task}, {n} thread{'s' * (n > 1)}: " + "; ".join(parts))
for n in sorted({1, cores}):
    L.append(f"- imgbatch wasm ÷ imgbatch native, task (a), {n} thread{'s' * (n > 1)}: {ratio(get('browser', 'imgbatch', n=n), get('native', 'imgbatch', n=n))}")
L.append(f"- imgbatch wasm ÷ imgbatch native, task (b), {cores} threads: {ratio(get('browser', 'imgbatch', 'b'), get('native', 'imgbatch', 'b'))}")
fb = get("browser", "imgbatch_fallback")
L.append(f"- imgbatch fallback pool ÷ threaded engine, {cores} workers/threads: {ratio(fb, ib_all)}")
for kind in ("a", "b", "c"):
    for n in (sorted({1, cores}) if kind == "a" else [cores]):
        L.append(f"- imgbatch native ÷ sharp, task ({kind}), {n} thread{'s' * (n > 1)}: {ratio(get('native', 'imgbatch', kind, n=n), get('native', 'sharp', kind, n=n))}"
                 + (f" (÷ sharp with mozjpeg: {ratio(get('native', 'imgbatch', kind, n=n), get('native', 'sharp-mozjpeg', kind, n=n))})" if kind == "a" else ""))
L.append(f"- imgbatch native ÷ sharp, task (a) as WebP, {cores} threads: {ratio(get('native', 'imgbatch', 'a', 'webp'), get('native', 'sharp', 'a', 'webp'))}")
scaling = []
for label, e in ALL.items():
    if label.endswith(f"-a-jpeg-{cores}") and cores > 1:
        one = ALL.get(label[: -len(str(cores))] + "1")
        if one:
            scaling.append(f"{e['name']} ({e['where']}) {mps(e) / mps(one):.2f}x")
L.append(f"- thread scaling, task (a), {cores} threads ÷ 1: " + "; ".join(scaling))
L.append("")

for (kind, fmt), title in TASK_NAMES.items():
    L += [f"## {title}", ""] + table(kind, fmt) + [""]

L += ["![MP/s per tool, task (a)](bench/mps.png)", "",
      "Peak memory: natively, the peak resident set of the tool's processes together (sampled every 50 ms, and the kernel's own peak per process). "
      "In the browser: the largest wasm memory the engine or peer grew (summed over its workers' instances; the canvas pipeline has none), "
      "the page's JS heap (`performance.memory`; workers' heaps are not included), and the proportional set size of the whole Chromium process "
      "tree sampled every 100 ms (this includes the browser's own ~100-200 MiB and is the only figure that sees the canvas pipeline's decoded bitmaps).",
      "",
      "SSIMULACRA2 (higher is better; 90 is visually lossless, 70 high quality) of the first "
      f"{R['batch']['quality_files']} distinct photos' outputs against the same source, decoded and turned upright by the `image` crate and resized "
      "with its Lanczos3 to the output's exact size (bench/quality). A tool that ignores the EXIF orientation is scored against the unturned "
      "source and counted as \"not upright\" (a user would see those photos lying on their side).", ""]

# --- where the time goes --------------------------------------------------------------------------
L += ["## Where the time goes: imgbatch in wasm versus native", ""]
stage_rows = {}
if nat_1 and ib_1 and "stages_ms" in nat_1 and "stages_ms" in ib_1:
    mp_n, mp_b = nat_1["mp_total"], ib_1["mp_total"]
    ns, bs = nat_1["stages_ms"], ib_1["stages_ms"]
    n_other = nat_1["median"] * 1000 - sum(ns.values())
    b_other = ib_1["median"] * 1000 - sum(bs.values())
    stage_rows = {
        "decode": (ns["decode_ms"] / mp_n, bs["decode_ms"] / mp_b),
        "resize": (ns["resize_ms"] / mp_n, bs["resize_ms"] / mp_b),
        "encode": (ns["encode_ms"] / mp_n, bs["encode_ms"] / mp_b),
        "copy in/out + scheduling": (n_other / mp_n, b_other / mp_b),
    }
    b_total = ib_1["median"] * 1000 / mp_b
    n_total = nat_1["median"] * 1000 / mp_n
    L += [f"One thread, task (a), ms per input megapixel (the engine's own per-file timings, summed; the last row is the rest of the wall time: "
          "natively reading and writing files, parsing headers and process start; in the browser reading each File, copying its bytes into "
          "wasm memory and the output back out as a Blob, header parsing, the worker's admission and polling, and the page's bookkeeping).", "",
          "| stage | native ms/MP | wasm ms/MP | wasm ÷ native | share of wasm time |", "|---|---|---|---|---|"]
    for k, (n, b) in stage_rows.items():
        L.append(f"| {k} | {n:.1f} | {b:.1f} | {b / n:.2f}x | {b / b_total:.0%} |" if n > 0 else f"| {k} | n/a ({n:.1f}) | {b:.1f} | n/a | {b / b_total:.0%} |")
    L.append(f"| total (wall) | {n_total:.1f} | {b_total:.1f} | {b_total / n_total:.2f}x | 100% |")
    if n_other < 0:
        L += ["", "Natively the three stages sum to more than the wall time even at `--jobs 1` (the engine still splits a large photo's "
              "work over its pool, and the machine was shared), so the native per-stage figures overlap and its last row has no meaning; "
              "the wasm ÷ native ratios per stage are therefore rough."]
    L.append("")

    # --- opportunities, ranked by the browser time each would save ---------------------------------
    ops = []
    sol = R.get("shrink_on_load", {}).get("a")
    if sol:
        dec, res = stage_rows["decode"][1], stage_rows["resize"][1]
        # Decoding at 1/m in the DCT domain (libjpeg-turbo's measured time ratio), then resizing from the
        # smaller image (resize cost taken as proportional to its input pixels).
        saved = dec * (1 - sol["ratio"]) + res * (1 - sol["pixels"])
        ops.append((saved, "Shrink-on-load (DCT-domain downscale while decoding JPEG)",
                    f"libjpeg-turbo decodes these photos at the largest 1/2, 1/4 or 1/8 scale that still covers the 2048 px target in "
                    f"{sol['ratio']:.0%} of its full-size time ({sol['shrunk_s']:.2f} s vs {sol['full_s']:.2f} s over {sol['photos']} photos; "
                    f"for the 720 px task: {R['shrink_on_load']['b']['ratio']:.0%}). Applied to imgbatch's wasm decode ({dec:.1f} ms/MP) and, "
                    f"since the resize then starts from an image with {sol['pixels']:.0%} of the pixels, to its resize ({res:.1f} ms/MP, taken as proportional to input pixels), it would save "
                    f"about {saved:.1f} of {b_total:.1f} ms/MP, {saved / b_total:.0%} of the wasm time (more for the 720 px task, where decode dominates). "
                    "sharp, vipsthumbnail and wasm-vips all do this; it is the main reason they lead task (b)."))
    d_n, d_b = stage_rows["decode"]
    ops.append((d_b - d_n, "Wasm SIMD in the JPEG decoder",
                f"wasm decodes at {d_b:.1f} ms/MP against {d_n:.1f} natively ({d_b / d_n:.2f}x). Bringing wasm decode to native speed would save up to "
                f"{d_b - d_n:.1f} ms/MP, {(d_b - d_n) / b_total:.0%} of the wasm time (an upper bound: SIMD128 is narrower than AVX2)."))
    e_n, e_b = stage_rows["encode"]
    ops.append((e_b - e_n, "The JPEG encoder in wasm (SIMD in mozjpeg-rs' DCT, colour conversion and trellis)",
                f"encode is {e_b / b_total:.0%} of the wasm time: {e_b:.1f} ms/MP against {e_n:.1f} natively ({e_b / e_n:.2f}x). "
                f"Closing the gap to native would save up to {e_b - e_n:.1f} ms/MP, {(e_b - e_n) / b_total:.0%}."))
    sweep = R.get("encoder_sweep")
    if sweep:
        def enc_ms(enc):
            return statistics.mean(p["ms"] for pts in sweep["encoders"][enc].values() for p in pts)
        trellis_saving = e_b * (1 - enc_ms("imgbatch fast") / enc_ms("imgbatch balanced"))
        m80 = sweep["matched"].get("imgbatch fast / cjpeg @ 80", {}).get("ratio")
        b80 = sweep["matched"].get("imgbatch balanced / cjpeg @ 80", {}).get("ratio")
        # Already taken: the default is the fast effort. Listed so the figure stays visible.
        ops.append((0.0, "Trellis as the default (already declined)",
                    f"`--jpeg-effort balanced` encodes in {enc_ms('imgbatch balanced') / enc_ms('imgbatch fast'):.1f}x the default's time natively "
                    f"(about {trellis_saving:.1f} ms/MP more in wasm) for "
                    + (f"{b80 / m80 - 1:+.0%} bytes at matched SSIMULACRA2 80." if m80 and b80 else "a byte saving the sweep could not match.")))
    ib_fb = get("browser", "imgbatch_fallback")
    if ib_all and nat_all and cores > 1 and "stages_ms" in ib_all:
        # Same files at 1 and all threads: how much longer each encode takes when others run beside it.
        slower = lambda e, one: e["stages_ms"]["encode_ms"] / one["stages_ms"]["encode_ms"]
        wasm_scaling, native_scaling = ib_1["median"] / ib_all["median"], nat_1["median"] / nat_all["median"]
        share = 1 - wasm_scaling / native_scaling
        ops.append((share * b_total, "Thread scaling in wasm",
                    f"from 1 to {cores} threads the page gains {wasm_scaling:.2f}x and the CLI {native_scaling:.2f}x. With {cores} running side by side "
                    f"each wasm encode takes {slower(ib_all, ib_1):.2f}x as long as alone (natively {slower(nat_all, nat_1):.2f}x)"
                    + (f"; the fallback pool, with separate memories and no atomics, shows the same ({slower(ib_fb, ib_1):.2f}x), so shared memory is not the cause"
                       if ib_fb and "stages_ms" in ib_fb else "")
                    + f". Scaling like the CLI would save {share:.0%} of the page's {cores}-thread time (ranked here as that share of the 1-thread figure)."))
    c_n, c_b = stage_rows["copy in/out + scheduling"]
    c_save = max(0.0, c_b - max(c_n, 0.0))
    ops.append((c_save, "Avoiding copies in and out of wasm memory",
                f"the wall time outside the three stages is {c_b:.1f} ms/MP in the browser"
                + (f" against {c_n:.1f} natively (where it includes file I/O)" if c_n >= 0 else
                   " (natively the stage times sum to more than the wall time, so there is no native figure to compare)")
                + f"; removing all of it would save at most {c_save:.1f} ms/MP, {c_save / b_total:.0%}: copies are not where the time goes."))
    ops.sort(key=lambda o: -o[0])
    L += ["## The biggest speed opportunities", "",
          "Ranked by the wasm time each would save, estimated from the table above and the measurements named (one thread, task (a)):", ""]
    for i, (saved, title, text) in enumerate(ops, 1):
        L.append(f"{i}. **{title}**{' (top three)' if i <= 3 else ''}: {text}")
    L.append("")

# --- visual-quality target against a fixed quality ---------------------------------------------
vt = R.get("visual_tradeoff")
if vt:
    L += ["## A visual-quality target against a fixed quality", "",
          f"imgbatch CLI on every core, each of {vt['photos']} distinct photos ({vt['megapixels']} MP) once at long edge 2048: `-q 80` against "
          "`--visual-quality 80` (each photo at the lowest quality whose output the engine scores at SSIMULACRA2 80 or more). Scores are "
          "bench/quality's, against the `image` crate's own resize of the source, so they sit a little apart from the engine's.", "",
          "| format | quality chosen by | seconds | KB per image | SSIMULACRA2 mean | min | max | spread (stdev) | quality used (min, median, max) |",
          "|---|---|---|---|---|---|---|---|---|"]
    for run in vt["runs"].values():
        sc, q = run["score"], run["quality"]
        used = f"{q['min']}, {q['median']}, {q['max']}" if q else "80 for all"
        L.append(f"| {run['format'].upper() if run['format'] == 'jpeg' else 'WebP'} | {run['mode']} | {run['seconds']:.2f} | {run['kb_per_image']:.0f} | "
                 f"{sc['mean']:.1f} | {sc['min']:.1f} | {sc['max']:.1f} | {sc['stdev']:.1f} | {used} |")
    L.append("")
    for fmt in ("jpeg", "webp"):
        fixed, target = vt["runs"].get(f"{fmt} quality 80"), vt["runs"].get(f"{fmt} visual quality 80")
        if fixed and target:
            L.append(f"- {'JPEG' if fmt == 'jpeg' else 'WebP'}: the target takes {target['seconds'] / fixed['seconds']:.1f}x the time of one fixed quality and writes "
                     f"{target['kb_per_image'] / fixed['kb_per_image']:.2f}x the bytes; the lowest score goes from {fixed['score']['min']:.1f} to "
                     f"{target['score']['min']:.1f} and the spread from {fixed['score']['stdev']:.1f} to {target['score']['stdev']:.1f} points.")
    L.append("")

# --- encoder sweep --------------------------------------------------------------------------------
sweep = R.get("encoder_sweep")
if sweep:
    L += ["## JPEG encoder vs cjpeg and sharp", "",
          f"{len(sweep['photos'])} photos ({', '.join(sweep['photos'])}) resized to long edge 2048 by imgbatch and saved as PNG (the reference; "
          f"PPM for cjpeg, converted by ImageMagick), then encoded at quality {', '.join(map(str, sweep['qualities']))} by imgbatch "
          "(`--jpeg-effort fast`, the default: mozjpeg-rs without trellis, optimised Huffman tables, baseline, 4:2:0; `balanced`: trellis; "
          "`smallest`: trellis, progressive, scan optimisation), by sharp with its default JPEG settings, by "
          f"Debian's `cjpeg -optimize -progressive` and by plain `cjpeg`, libjpeg-turbo's defaults, the library Chromium's canvas encoder "
          f"is built on ({R['versions']['cjpeg']}, 4:2:0). Every output is scored with SSIMULACRA2 against its "
          "reference; bytes at a matched score are interpolated (log bytes, linear in score) between the two nearest qualities, per photo, "
          "and the ratios are geometric means over the photos (below 1: imgbatch is smaller at the same quality).", ""]
    peers = sorted({k.split(" / ")[1].split(" @ ")[0] for k in sweep["matched"]})
    for peer in peers:
        L += [f"| imgbatch ÷ {peer}, bytes at matched SSIMULACRA2 | 70 | 80 | 90 |", "|---|---|---|---|"]
        for enc in dict.fromkeys(k.split(" / ")[0] for k in sweep["matched"]):
            cells = []
            for t in (70, 80, 90):
                m = sweep["matched"].get(f"{enc} / {peer} @ {t}", {})
                cells.append(f"{m['ratio']:.3f} ({m['photos']} photos)" if m.get("ratio") else "out of range")
            L.append(f"| {enc} | " + " | ".join(cells) + " |")
        L.append("")
    L += ["| encoder | quality | mean KB | mean SSIMULACRA2 | mean encode ms |", "|---|---|---|---|---|"]
    for enc, per_photo in sweep["encoders"].items():
        for i, q in enumerate(sweep["qualities"]):
            pts = [pts[i] for pts in per_photo.values()]
            scores = [p["score"] for p in pts if p["score"] is not None]
            ms = [p["ms"] for p in pts if p["ms"] is not None]
            L.append(f"| {enc} | {q} | {statistics.mean(p['bytes'] for p in pts) / 1000:.0f} | "
                     f"{statistics.mean(scores):.1f} | {f'{statistics.mean(ms):.0f}' if ms else 'n/a'} |")
    L += ["", "Encode times are single-threaded: imgbatch's own `encode_ms`; cjpeg's is the whole process (reading the PPM, about a millisecond "
          "per MB); sharp's cannot be separated from its PNG decode here.", ""]

# --- memory by batch size -------------------------------------------------------------------------
if R.get("memory_by_batch"):
    L += ["## Peak memory by batch size", "",
          "The threaded engine at all threads. It is bounded by the files in flight (two per thread, each read only when admitted), "
          "not by the batch length; a short batch may never have its largest photos in flight together.", "",
          "| files | peak wasm memory | JS heap | Chromium PSS |", "|---|---|---|---|"]
    for n, m in R["memory_by_batch"].items():
        L.append(f"| {n} | {m['peak_wasm'] / 2**20:.0f} MiB | {m['js_heap'] / 2**20:.0f} MiB | {m['peak_pss'] / 2**20:.0f} MiB |")
    sizes = sorted(R["memory_by_batch"], key=int)
    if len(sizes) > 1:
        small, big = R["memory_by_batch"][sizes[0]], R["memory_by_batch"][sizes[-1]]
        L += ["", f"Peak wasm memory, {sizes[-1]} files ÷ {sizes[0]}: {big['peak_wasm'] / small['peak_wasm']:.2f}x."]
    L.append("")

# --- how each tool runs -----------------------------------------------------------------------------
L += ["## How each tool runs", "",
      f"- **imgbatch CLI**: `imgbatch DIR -o OUT --to jpeg --size 2048|w720 --filter lanczos3 --quality 80 --jobs N --json` (one photo per thread; "
      "task (c): `--size 2048 --size 1024 --size 320x320:cover`, one decode per photo). The default encoder effort (`fast`), baseline.",
      "- **sharp** (bench/peers/sharp.mjs): `sharp(file).rotate().resize({width, height, fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3'})"
      ".jpeg({quality: 80})` (or `.webp({quality: 80})`), N photos in flight, `sharp.concurrency(1)` and `UV_THREADPOOL_SIZE=N`: one libvips thread per "
      "photo, like imgbatch. sharp's default JPEG settings are libjpeg-turbo-like (baseline, no trellis); the `mozjpeg: true` row switches on "
      "its mozjpeg defaults (trellis, progressive), the closer match to imgbatch's `--jpeg-effort smallest`. Task (c): the rotated "
      "source `clone()`d into three resizes (`fit: 'cover'` for the square), one decode per photo.",
      "- **vipsthumbnail**: `vipsthumbnail FILES -s '2048x2048>'|'720x>' -o OUT/%s.jpg[Q=80]` (shrink-on-load, Lanczos3, auto-rotate), "
      "with `VIPS_CONCURRENCY=1` and the files split over N processes run side by side. Batch-level parallelism was chosen over one process "
      "with `VIPS_CONCURRENCY=N` because a JPEG's decode is sequential, so per-image threads mostly wait.",
      "- **ImageMagick** (Debian's 6.9, `mogrify -auto-orient -filter Lanczos -resize '2048x2048>' -quality 80`), `MAGICK_THREAD_LIMIT=1`, "
      "files split over N processes. Slow, so it runs the subset.",
      f"- **imgbatch in the browser**: the real page (`scripts/serve`, cross-origin isolated) driven through `window.imgbatch.convert(files, options)`: "
      f"the threaded engine with `?threads=1` and `?threads={cores}`, and the fallback pool (`?engine=fallback`, one single-threaded instance per worker). "
      "Files come from a file input (disk-backed `File`s), as a user's would.",
      "- **Browser peers** (bench/peers/, served cross-origin isolated by bench/serve.mjs): one page, photos fetched into `Blob`s before timing, "
      "handed one at a time to a pool of module workers, each reading its Blob's bytes itself:",
      "  - **wasm-vips**: one threaded instance in one worker, `vips.concurrency(N)`, `Image.thumbnailBuffer(bytes, 2048, {height: 2048, size: 'down'})` "
      "(720 wide: `height: 10000000`), `writeToBuffer('.jpg', {Q: 80})`, as its README shows.",
      "  - **magick-wasm**: one instance per worker, one worker per thread (as VERT runs it): `read`, `autoOrient()`, "
      "`resize(w, h, FilterType.Lanczos)`, `quality = 80`, `write(MagickFormat.Jpeg)`. Runs the subset.",
      "  - **jSquash**: `@jsquash/jpeg` decode, `@jsquash/resize` (`method: 'lanczos3'` with its defaults, premultiplied and in linear light), "
      "`@jsquash/jpeg` encode at quality 80 (`@jsquash/webp` for WebP); one worker per thread. It reads no EXIF orientation. Runs the subset.",
      "  - **canvas**: `createImageBitmap(blob, {resizeWidth, resizeHeight, resizeQuality: 'high', imageOrientation: 'from-image'})`, "
      "drawn into an `OffscreenCanvas`, `convertToBlob({type: 'image/jpeg', quality: 0.8})`; one worker per thread. Chromium's 'high' resize "
      "is its own filter, not Lanczos3; the target size is computed from the upright size the script read from the corpus manifest. "
      "Task (c): one `createImageBitmap` decode, then three resized (and, for the square, cropped) bitmaps made from it.",
      ""]
if R["errors"]:
    L += ["## What did not run", ""] + [f"- `{k}`: {v}" for k, v in R["errors"].items()] + [""]
L += ["## Reproduce", "", "```",
      "scripts/bench                  # everything: installs peers, builds, measures, writes BENCHMARKS.md, bench/mps.png, bench-out/bench.json",
      "scripts/bench --files DIR      # any folder (every file in it, not repeated)",
      "scripts/bench --no-browser     # native tools only",
      "scripts/bench --reps N         # repetitions per measurement (default 3)",
      "scripts/bench --quick          # smoke run: 8 files, 1 rep, small samples",
      "scripts/bench --no-sweep       # skip the JPEG encoder sweep",
      "scripts/bench --slow-files N   # files for ImageMagick, magick-wasm and jSquash (default 12)",
      "scripts/bench --max-wait S     # longest wait for a quiet machine before each run (default 600)",
      "scripts/bench --only-tradeoff  # add only the visual-quality trade-off to the last run's JSON",
      ".venv/bin/python bench/report.py bench-out/bench.json   # redraw this file and the chart from the JSON",
      "```", "",
      "It installs what it needs, idempotently: Debian's chromium, libvips-tools, imagemagick and libjpeg-turbo-progs (apt), the peers from "
      "bench/package-lock.json (`npm ci`), matplotlib into `.venv`, and builds the engine (`scripts/build`), the CLI and the scorer "
      "(bench/quality, its own Cargo.lock). A full run takes about half an hour on 2 cores. Raw numbers: `bench-out/bench.json`; the scored "
      "outputs stay in `bench-out/outputs/`.", ""]
open("BENCHMARKS.md", "w").write("\n".join(L))

# --- the chart ----------------------------------------------------------------------------------------
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

bars = sorted((e for e in ALL.values() if e["kind"] == "a" and e["format"] == "jpeg"), key=lambda e: (e["where"], e["name"], e["threads"]))
names = sorted({(e["where"], e["name"]) for e in bars}, key=lambda k: (k[0] != "native", -max(mps(e) for e in bars if (e["where"], e["name"]) == k)))
fig, ax = plt.subplots(figsize=(9, 0.5 * len(names) + 1.5))
for i, key in enumerate(names):
    for j, n in enumerate(sorted({1, cores})):
        e = next((e for e in bars if (e["where"], e["name"]) == key and e["threads"] == n), None)
        if e:
            y = i + (0.2 if n == 1 else -0.2)
            ax.barh(y, mps(e), height=0.38, color=("#4c72b0" if key[0] == "native" else "#dd8452") if n == cores else ("#a6bddb" if key[0] == "native" else "#f5c6a5"))
            ax.text(mps(e), y, f" {mps(e):.1f}", va="center", fontsize=8)
subset = {(e["where"], e["name"]) for e in bars if e["files"] < R["batch"]["files"]}
ax.set_yticks(range(len(names)), [f"{name} ({where}){' *' if (where, name) in subset else ''}" for where, name in names], fontsize=8)
ax.invert_yaxis()
ax.set_xlabel(f"input megapixels per second (median of {R['reps']}); dark: {cores} threads, light: 1 thread"
              + (f"\n* on the first {R['batch']['slow_files']} files of the {R['batch']['files']}-file batch" if subset else ""))
ax.set_title(f"Long edge 2048, Lanczos3, JPEG q80 - {R['date']}, {cores} cores", fontsize=10)
fig.tight_layout()
fig.savefig("bench/mps.png", dpi=110)
print(open("BENCHMARKS.md").read())
