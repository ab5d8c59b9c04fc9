//! Decompression bombs and absurd declared sizes are refused with a Limit error before any
//! pixel buffer exists, and peak memory stays small while they are.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use imgbatch::{ErrorKind, Format, Job, Limits};

/// Counts live heap bytes and the peak since the last reset, for this test binary only.
struct PeakAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

/// Heap growth allowed while refusing a bomb: the file itself plus a few MiB of decoder state.
const BOMB_HEAP_ALLOWANCE: usize = 16 << 20;

fn peak_while<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

/// Corpus files that declare more pixels or a longer side than the default limits, plus the
/// named bombs whose danger is in a frame or chunk rather than the header.
fn bombs() -> Vec<String> {
    let limits = Limits::default();
    let named = [
        "pillow/decompression_bomb.gif",
        "pillow/decompression_bomb_extents.gif",
        "pillow/png_decompression_dos.png",
    ];
    let text = std::fs::read_to_string(common::corpus_dir().join("MANIFEST.tsv")).unwrap();
    let mut found: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (w, h) = (
                cols[2].parse::<i64>().ok()?.unsigned_abs(),
                cols[3].parse::<i64>().ok()?.unsigned_abs(),
            );
            let over = w > u64::from(limits.max_side)
                || h > u64::from(limits.max_side)
                || w * h > limits.max_pixels;
            over.then(|| cols[0].to_string())
        })
        .collect();
    found.extend(named.iter().map(|s| s.to_string()));
    found
}

#[test]
fn bombs_are_refused_with_a_limit_error_in_little_memory() {
    let bombs = bombs();
    assert!(
        bombs.len() >= 8,
        "expected the corpus bombs, found {bombs:?}"
    );
    let job = Job::new(Format::Png);
    let mut report = Vec::new();
    let mut problems = Vec::new();
    for path in &bombs {
        let bytes = common::read(path);
        let (result, peak) = peak_while(|| imgbatch::convert(&bytes, &job));
        let outcome = match &result {
            Ok(_) => "converted".to_string(),
            Err(e) => format!("{}: {}", e.code(), e.message()),
        };
        report.push(format!("{path}: peak heap {} KiB; {outcome}", peak >> 10));
        if peak > bytes.len() + BOMB_HEAP_ALLOWANCE {
            problems.push(format!(
                "{path}: peak heap {} MiB while refusing",
                peak >> 20
            ));
        }
        match result {
            Err(e) if e.kind() == ErrorKind::Limit => {}
            _ => problems.push(format!("{path}: expected a limit error, got {outcome}")),
        }
    }
    println!("{}", report.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn limits_are_checked_from_the_header() {
    let bytes = common::read("exif-orientation-examples/Landscape_1.jpg");
    let tight = |limits: Limits| Job {
        limits,
        ..Job::new(Format::Png)
    };
    let cases = [
        (
            "pixels",
            Limits {
                max_pixels: 1_000_000,
                ..Limits::default()
            },
        ),
        (
            "side",
            Limits {
                max_side: 1000,
                ..Limits::default()
            },
        ),
        (
            "input bytes",
            Limits {
                max_input_bytes: 1000,
                ..Limits::default()
            },
        ),
        (
            "memory",
            Limits {
                max_memory: 4 << 20,
                ..Limits::default()
            },
        ),
    ];
    for (what, limits) in cases {
        let (result, peak) = peak_while(|| imgbatch::convert(&bytes, &tight(limits)));
        let err = result.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::Limit, "{what}: {err}");
        // 1800x1200 RGB would be 6.5 MB decoded; refusing must not decode.
        assert!(peak < bytes.len() + (2 << 20), "{what}: peak {peak} bytes");
    }
    assert!(imgbatch::convert(&bytes, &tight(Limits::default())).is_ok());
}

/// A HEIF whose HEVC stream declares a larger picture than its header (`ispe`) promises is
/// refused when the header is read: the stream's size, not the header's, is what a decoder
/// would allocate.
#[test]
fn a_heif_stream_larger_than_its_header_is_refused_before_decoding() {
    let mut bytes = common::read("exif-samples/heic/samplefilehub.heif");
    let at = bytes
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("the file has an ispe box");
    // ispe: type, version and flags, then width and height (big-endian u32).
    bytes[at + 8..at + 16].copy_from_slice(&[0, 0, 0, 16, 0, 0, 0, 16]);
    let (result, peak) = peak_while(|| imgbatch::convert(&bytes, &Job::new(Format::Png)));
    let error = result.expect_err("a 16x16 header over a 640x426 stream must be refused");
    assert_eq!(error.kind(), ErrorKind::Limit, "{}", error.message());
    assert!(peak < BOMB_HEAP_ALLOWANCE, "peak heap {} MiB", peak >> 20);
}
