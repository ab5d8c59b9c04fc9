//! AV1 decoding in a child process, so that a crash inside rav1d costs one file instead of
//! the whole process.
//!
//! Why a process: rav1d's only public API is dav1d's `extern "C"` one (its Rust-ABI
//! `rav1d_*` functions are `pub(crate)`), and a Rust panic cannot unwind out of an
//! `extern "C"` function: it aborts the process, so no `catch_unwind` can stop it. Fuzzed
//! AVIFs reach such panics (an `unwrap` on `None` in `rav1d_submit_frame`'s error path,
//! among others). In a child, the abort ends only the child, and the parent reports the
//! picture as undecodable.
//!
//! It is opt-in: [`isolate_av1`] names a program that answers requests when its first
//! argument is [`AV1_WORKER_ARG`] (by calling [`serve_av1_worker_if_asked`] first thing in
//! `main`). The `imgbatch` command names itself. Without it, pictures decode in-process, as
//! a library caller that cannot spawn processes needs.
//!
//! The exchange is one picture per child: the request on stdin, the answer on stdout, a
//! panic's one-line message on stderr. A child per picture costs a process start (a few
//! milliseconds) per AV1 item; a grid's tiles start one each, in parallel on rayon's pool.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;

use heic_rs::hevc::{ChromaFormat, Frame};

/// The first argument that makes a program serve one AV1 picture on stdin and stdout.
pub const AV1_WORKER_ARG: &str = "--imgbatch-av1-worker";

/// The program that decodes AV1 pictures, once [`isolate_av1`] has named it.
static WORKER: OnceLock<PathBuf> = OnceLock::new();

/// Decodes every AV1 picture (AVIF) from now on in a child process running `program`, so
/// that a crash inside the decoder fails that file (a `decode` error) instead of aborting
/// this process. `program` must call [`serve_av1_worker_if_asked`] at the start of `main`.
/// Set once per process; a second call with another program is refused.
pub fn isolate_av1(program: impl Into<PathBuf>) -> crate::Result<()> {
    let program = program.into();
    let set = WORKER.get_or_init(|| program.clone());
    if *set != program {
        return Err(crate::Error::invalid_options(format!(
            "AV1 pictures already decode in {}",
            set.display()
        )));
    }
    Ok(())
}

/// Serves one AV1 request if the first argument is [`AV1_WORKER_ARG`], returning the exit
/// code `main` should return; `None` otherwise, and `main` carries on as usual.
pub fn serve_av1_worker_if_asked() -> Option<ExitCode> {
    if std::env::args_os().nth(1) != Some(OsString::from(AV1_WORKER_ARG)) {
        return None;
    }
    quiet_crashes();
    let mut request = Vec::new();
    if std::io::stdin().lock().read_to_end(&mut request).is_err() {
        return Some(ExitCode::from(2));
    }
    let answer = answer(&request);
    let mut out = std::io::stdout().lock();
    Some(match out.write_all(&answer).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    })
}

/// A crash in the child must leave one line for the parent's report: no backtrace note,
/// and no core file for every bad picture.
fn quiet_crashes() {
    std::panic::set_hook(Box::new(|info| {
        let what = crate::error::panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("{}{at}", what.replace('\n', " "));
    }));
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct it is given; failing leaves the limit as it was,
        // which is harmless.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    }
}

/// Request: `max_pixels` (u64 LE), then the item's OBUs to the end.
/// Answer: 0 and a UTF-8 message, or 1 and the frame (see [`put_frame`]).
fn answer(request: &[u8]) -> Vec<u8> {
    let Some((max_pixels, obus)) = request.split_first_chunk::<8>() else {
        return error_answer("truncated AV1 request");
    };
    match super::av1::decode(obus, u64::from_le_bytes(*max_pixels)) {
        Ok(frame) => put_frame(&frame),
        Err(message) => error_answer(&message),
    }
}

fn error_answer(message: &str) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(message.as_bytes());
    out
}

/// Decodes the one picture of an AV1 item: in the worker program when the caller asked for
/// isolation (see [`isolate_av1`]), in this process otherwise.
pub(super) fn decode(obus: &[u8], max_pixels: u64) -> Result<Frame, String> {
    match WORKER.get() {
        Some(program) => decode_in(program, obus, max_pixels),
        None => super::av1::decode(obus, max_pixels),
    }
}

fn decode_in(program: &Path, obus: &[u8], max_pixels: u64) -> Result<Frame, String> {
    let mut child = Command::new(program)
        .arg(AV1_WORKER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start the AV1 decoder process {}: {e}",
                program.display()
            )
        })?;
    // The child reads the whole request before it writes anything, so writing it all first
    // cannot deadlock. A child that died early makes this fail; its status says why.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin
            .write_all(&max_pixels.to_le_bytes())
            .and_then(|()| stdin.write_all(obus));
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("lost the AV1 decoder process: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().next().unwrap_or("").trim();
        return Err(if why.is_empty() {
            format!(
                "the AV1 decoder crashed on this picture ({})",
                output.status
            )
        } else {
            format!("the AV1 decoder crashed on this picture: {why}")
        });
    }
    match output.stdout.split_first() {
        Some((0, message)) => Err(String::from_utf8_lossy(message).into_owned()),
        Some((1, frame)) => get_frame(frame).ok_or_else(|| "garbled AV1 decoder answer".into()),
        _ => Err("empty AV1 decoder answer".into()),
    }
}

/// 1, width, height (u32), bit depth, chroma (u8), luma and chroma strides (u32), the three
/// plane lengths (u64), then the samples (u16), all little-endian.
fn put_frame(f: &Frame) -> Vec<u8> {
    let samples = f.y.len() + f.cb.len() + f.cr.len();
    let mut out = Vec::with_capacity(1 + 4 * 4 + 2 + 3 * 8 + 2 * samples);
    out.push(1);
    out.extend_from_slice(&f.width.to_le_bytes());
    out.extend_from_slice(&f.height.to_le_bytes());
    out.push(f.bit_depth);
    out.push(match f.chroma {
        ChromaFormat::Monochrome => 0,
        ChromaFormat::Yuv420 => 1,
        ChromaFormat::Yuv422 => 2,
        ChromaFormat::Yuv444 => 3,
    });
    out.extend_from_slice(&f.y_stride.to_le_bytes());
    out.extend_from_slice(&f.c_stride.to_le_bytes());
    for plane in [&f.y, &f.cb, &f.cr] {
        out.extend_from_slice(&(plane.len() as u64).to_le_bytes());
    }
    for plane in [&f.y, &f.cb, &f.cr] {
        for v in plane.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Reads what [`put_frame`] wrote (after the leading 1); `None` if it does not add up.
fn get_frame(bytes: &[u8]) -> Option<Frame> {
    let mut r = Reader(bytes);
    let width = u32::from_le_bytes(r.take()?);
    let height = u32::from_le_bytes(r.take()?);
    let [bit_depth] = r.take()?;
    let chroma = match r.take()? {
        [0] => ChromaFormat::Monochrome,
        [1] => ChromaFormat::Yuv420,
        [2] => ChromaFormat::Yuv422,
        [3] => ChromaFormat::Yuv444,
        _ => return None,
    };
    let y_stride = u32::from_le_bytes(r.take()?);
    let c_stride = u32::from_le_bytes(r.take()?);
    let mut lengths = [0usize; 3];
    for length in &mut lengths {
        *length = usize::try_from(u64::from_le_bytes(r.take()?)).ok()?;
    }
    let mut planes = lengths.map(|n| r.samples(n));
    let frame = Frame {
        width,
        height,
        bit_depth,
        chroma,
        y: std::mem::take(&mut planes[0])?,
        cb: std::mem::take(&mut planes[1])?,
        cr: std::mem::take(&mut planes[2])?,
        y_stride,
        c_stride,
    };
    (r.0.is_empty() && frame.validate().is_ok()).then_some(frame)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn samples(&mut self, n: usize) -> Option<Vec<u16>> {
        let (head, rest) = self.0.split_at_checked(n.checked_mul(2)?)?;
        self.0 = rest;
        Some(
            head.chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_survives_the_round_trip() {
        let frame = Frame {
            width: 3,
            height: 2,
            bit_depth: 10,
            chroma: ChromaFormat::Yuv420,
            y: (0..6).map(|v| v * 100).collect(),
            cb: vec![1, 2],
            cr: vec![1023, 0],
            y_stride: 3,
            c_stride: 2,
        };
        let bytes = put_frame(&frame);
        let back = get_frame(&bytes[1..]).expect("round trip");
        assert_eq!((back.width, back.height, back.bit_depth), (3, 2, 10));
        assert_eq!(back.chroma, ChromaFormat::Yuv420);
        assert_eq!((back.y, back.cb, back.cr), (frame.y, frame.cb, frame.cr));
        assert!(get_frame(&bytes[1..bytes.len() - 1]).is_none());
    }
}
