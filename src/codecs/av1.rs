//! AV1 pictures, the coded items inside AVIF, through rav1d: the Rust port of dav1d, the
//! decoder libavif and browsers use. rav1d has no safe Rust API, only dav1d's C API, so
//! this file is the one place that calls it, and hands back a plain YCbCr [`Frame`].
//!
//! Every picture gets its own decoder with one thread (`n_threads = 1`, `max_frame_delay =
//! 1`), under which rav1d starts no thread of its own: the tiles of a grid spread over
//! rayon's pool instead, like HEVC tiles do.
//!
//! dav1d's C API is `extern "C"`, so a panic inside rav1d cannot unwind to the batch's
//! per-file guard: it aborts the process (issue 16: corrupt AVIFs reach such panics). Once
//! a caller opts in with [`isolate_av1`](super::av1_child::isolate_av1), as the `imgbatch`
//! command does, `av1_child.rs` runs [`decode`] in a child process and a crash costs one
//! file. [`sequence_header`] stays in-process: it is called for every tile at
//! header time, where a process each would cost more than the decode, and it runs only
//! rav1d's sequence header parser (safe Rust that returns errors; no thread, no frame
//! state), which none of the 1000 mutated AVIFs of issue 16 crashed (321 crashed the
//! decoder, all at decode.rs:4997).

use std::ptr::NonNull;

use heic_rs::hevc::{ChromaFormat, Frame};
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    DAV1D_PIXEL_LAYOUT_I444, Dav1dSequenceHeader,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib as dav1d;

use super::stream::{StreamColour, StreamHeader};

/// Reads the sequence header OBU at the head of an item's data (AVIF puts one in every
/// AV1 item): the largest picture the stream may hold, and its colour signalling. `None`
/// when there is none (or the data is empty).
pub(crate) fn sequence_header(obus: &[u8]) -> Option<StreamHeader> {
    let mut header = std::mem::MaybeUninit::<Dav1dSequenceHeader>::uninit();
    // SAFETY: `header` is valid for writes and `obus` for `obus.len()` reads; on success
    // dav1d has written the whole header.
    let header = unsafe {
        let r = dav1d::dav1d_parse_sequence_header(
            Some(NonNull::from(&mut header).cast()),
            NonNull::new(obus.as_ptr().cast_mut()),
            obus.len(),
        );
        if r.0 != 0 {
            return None;
        }
        header.assume_init()
    };
    Some(StreamHeader {
        size: (
            u32::try_from(header.max_width).ok()?,
            u32::try_from(header.max_height).ok()?,
        ),
        // `hbd` is 0, 1 or 2 for 8, 10 and 12 bits.
        bit_depth: 8 + 2 * header.hbd,
        colour: StreamColour {
            primaries: header.pri as u16,
            transfer: header.trc as u16,
            matrix: header.mtrx as u16,
            full_range: header.color_range != 0,
        },
    })
}

/// One open decoder; closed on drop.
struct Decoder(Option<Dav1dContext>);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from `dav1d_open` and is closed once, here.
        unsafe { dav1d::dav1d_close(Some(NonNull::from(&mut self.0))) };
    }
}

/// One decoded picture; released on drop.
struct Picture(Dav1dPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture came from `dav1d_get_picture` (or is empty) and is released
        // once, here.
        unsafe { dav1d::dav1d_picture_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// Input handed to the decoder; whatever it did not take is released on drop.
struct Data(Dav1dData);

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: the buffer came from `dav1d_data_create`; unref of a consumed one is a no-op.
        unsafe { dav1d::dav1d_data_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// `-EAGAIN` as dav1d returns it: "send more data" or "take a picture first".
const AGAIN: i32 = -libc::EAGAIN;

/// Decodes the one picture of an AV1 item in this process. A frame larger than
/// `max_pixels`, or than its own sequence header declares (which the header-time limit
/// checks trusted), is refused by the decoder itself, before its planes are allocated: a
/// frame header may override the size without rav1d checking it against the sequence
/// header's maximum.
pub(super) fn decode(obus: &[u8], max_pixels: u64) -> Result<Frame, String> {
    let declared = sequence_header(obus).ok_or("the AV1 item has no sequence header")?;
    let (w, h) = declared.size;
    let limit = max_pixels.min(u64::from(w) * u64::from(h));
    let mut settings = std::mem::MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes every field.
    let mut settings = unsafe {
        dav1d::dav1d_default_settings(NonNull::from(&mut settings).cast());
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    // Only the highest spatial layer, as libavif asks for.
    settings.all_layers = 0;
    settings.frame_size_limit = u32::try_from(limit).unwrap_or(u32::MAX);
    // SAFETY: a logger of all zeros is "no logger" (no cookie, no callback); rav1d's default
    // writes to stderr, which would interleave with the CLI's own output.
    settings.logger = unsafe { std::mem::zeroed() };

    let mut decoder = Decoder(None);
    // SAFETY: both pointers are valid for the call; on success `decoder.0` holds a context.
    let r = unsafe {
        dav1d::dav1d_open(
            Some(NonNull::from(&mut decoder.0)),
            Some(NonNull::from(&mut settings)),
        )
    };
    if r.0 != 0 || decoder.0.is_none() {
        return Err(format!("the AV1 decoder could not start (error {})", r.0));
    }
    let mut data = Data(Dav1dData::default());
    // SAFETY: `dav1d_data_create` returns a buffer of `obus.len()` bytes, or null.
    unsafe {
        let buffer = dav1d::dav1d_data_create(Some(NonNull::from(&mut data.0)), obus.len());
        if buffer.is_null() {
            return Err("out of memory for the AV1 data".into());
        }
        std::ptr::copy_nonoverlapping(obus.as_ptr(), buffer, obus.len());
    }
    let mut picture = Picture(Dav1dPicture::default());
    loop {
        if data.0.sz > 0 {
            // SAFETY: the context is open and `data` is a live buffer.
            let r = unsafe { dav1d::dav1d_send_data(decoder.0, Some(NonNull::from(&mut data.0))) };
            if r.0 != 0 && r.0 != AGAIN {
                return Err(format!("the AV1 stream is corrupt (error {})", r.0));
            }
        }
        // SAFETY: the context is open and `picture` is empty.
        let r = unsafe { dav1d::dav1d_get_picture(decoder.0, Some(NonNull::from(&mut picture.0))) };
        match r.0 {
            0 => break,
            AGAIN if data.0.sz > 0 => continue,
            AGAIN => return Err("the AV1 stream holds no picture".into()),
            e => return Err(format!("the AV1 stream is corrupt (error {e})")),
        }
    }
    to_frame(&picture.0)
}

/// Copies a picture's planes into heic-rs's planar form, which the grid, transform and
/// colour code of the HEIF adapter work on.
fn to_frame(p: &Dav1dPicture) -> Result<Frame, String> {
    let width = u32::try_from(p.p.w).map_err(|_| "the AV1 picture has no size")?;
    let height = u32::try_from(p.p.h).map_err(|_| "the AV1 picture has no size")?;
    let bit_depth = u8::try_from(p.p.bpc).map_err(|_| "bad AV1 bit depth")?;
    let chroma = match p.p.layout {
        DAV1D_PIXEL_LAYOUT_I400 => ChromaFormat::Monochrome,
        DAV1D_PIXEL_LAYOUT_I420 => ChromaFormat::Yuv420,
        DAV1D_PIXEL_LAYOUT_I422 => ChromaFormat::Yuv422,
        DAV1D_PIXEL_LAYOUT_I444 => ChromaFormat::Yuv444,
        other => return Err(format!("unknown AV1 pixel layout {other}")),
    };
    let (cw, ch) = chroma.chroma_size(width, height);
    let plane = |i: usize, w: u32, h: u32, stride: isize| -> Result<Vec<u16>, String> {
        let base = p.data[i].ok_or("the AV1 picture is missing a plane")?;
        let (w, h) = (w as usize, h as usize);
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            // SAFETY: dav1d's plane `i` holds `h` rows of `stride` bytes, each with at least
            // `w` samples of one byte (8 bits) or one native-endian u16 (10 and 12 bits).
            unsafe {
                let start = base.as_ptr().cast::<u8>().offset(row as isize * stride);
                if bit_depth > 8 {
                    let r = std::slice::from_raw_parts(start.cast::<u16>(), w);
                    out.extend_from_slice(r);
                } else {
                    let r = std::slice::from_raw_parts(start, w);
                    out.extend(r.iter().map(|&v| u16::from(v)));
                }
            }
        }
        Ok(out)
    };
    let y = plane(0, width, height, p.stride[0])?;
    let (cb, cr) = if chroma == ChromaFormat::Monochrome {
        (Vec::new(), Vec::new())
    } else {
        (
            plane(1, cw, ch, p.stride[1])?,
            plane(2, cw, ch, p.stride[1])?,
        )
    };
    let frame = Frame {
        width,
        height,
        bit_depth,
        chroma,
        y,
        cb,
        cr,
        y_stride: width,
        c_stride: cw,
    };
    frame.validate().map_err(|e| e.to_string())?;
    Ok(frame)
}
