//! One file through the whole pipeline: sniff, check limits, decode, orient, resize,
//! flatten, encode, attach metadata.

use serde::Serialize;
use web_time::Instant;

use crate::codecs::{self, Colour, Header};
use crate::container::frame_count;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;
use crate::metadata::{Metadata, exif_capture_time};
use crate::naming::DateTime;
use crate::note::Note;
use crate::options::{ByteSize, ColorPolicy, Job};
use crate::pixels::{Pixels, Sample, SourcePixels};
use crate::resize::{self, Plan};
use crate::visual_quality::{self, SCORER_BYTES_PER_PIXEL};

/// One encoded output.
#[derive(Clone, Debug, Serialize)]
pub struct Output {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// The size spec's label (`2048`, `800x600-cover`, `orig`), for name templates.
    #[serde(rename = "size")]
    pub label: String,
    /// When the photo was taken (EXIF DateTimeOriginal), for names and file dates.
    pub captured: Option<DateTime>,
    pub timings: Timings,
    #[serde(serialize_with = "notes_with_messages")]
    pub notes: Vec<Note>,
}

/// Reports carry each note's code, fields and its sentence, so the CLI and the page show the
/// same words without each keeping a copy.
fn notes_with_messages<S: serde::Serializer>(
    notes: &[Note],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct WithMessage<'a> {
        #[serde(flatten)]
        note: &'a Note,
        message: String,
    }
    serializer.collect_seq(notes.iter().map(|note| WithMessage {
        note,
        message: note.to_string(),
    }))
}

/// Milliseconds per stage. Decoding is shared by all outputs of one input, so each output
/// reports the same decode time.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Timings {
    pub decode_ms: f64,
    pub resize_ms: f64,
    pub encode_ms: f64,
}

/// What an input is, from its header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub format: Format,
    /// Upright size (after EXIF orientation).
    pub width: u32,
    pub height: u32,
    pub frames: u32,
}

/// Finds the format from the magic bytes and checks this build can read it.
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    let format = Format::sniff(bytes).ok_or_else(Error::not_an_image)?;
    if !format.info().can_decode {
        return Err(Error::unsupported(format!(
            "{format} input is recognised but not supported in this build"
        )));
    }
    Ok(format)
}

/// Reads the header only: format, upright size, frame count. Enforces `limits`.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<SourceInfo> {
    limits.check_input_bytes(bytes.len() as u64)?;
    // A format this build recognises but cannot decode (AVIF in wasm) is decoded by the
    // browser, outside every limit of ours: refuse it here from the size its header
    // declares, before anything is decoded.
    if let Some(format) = Format::sniff(bytes).filter(|f| !f.info().can_decode)
        && let Some((w, h)) = codecs::declared_size(format, bytes)
    {
        limits.check_extent(w, h)?;
    }
    let format = sniff(bytes)?;
    // The depth is the output's business; the size is the same either way.
    let header = codecs::read_header(bytes, format, limits, false)?;
    let (width, height) = header.upright_size();
    Ok(SourceInfo {
        format,
        width,
        height,
        frames: frame_count(format, bytes),
    })
}

/// Estimated peak memory to convert a file with this header: the input, the decoder's
/// buffer, the working copy and its rotated copy, and per output the resized image, its
/// flattened copy and the encoder's working set; twice as much where 16-bit samples are
/// kept. A visual-quality search adds the scorer's working set for the largest output (the
/// outputs are made one after another).
pub fn estimate_peak_memory(header: &Header, input_bytes: u64, job: &Job) -> u64 {
    let (w, h) = header.upright_size();
    let source_px = u64::from(w) * u64::from(h);
    let info = job.format.info();
    let pixel_bytes = if header.sixteen_bit && info.sixteen_bit {
        8
    } else {
        4
    };
    let max_side = info.max_side;
    let canvases: Vec<u64> = job
        .output_sizes()
        .iter()
        .map(|spec| {
            let (cw, ch) = Plan::new(w, h, spec, job.enlarge, max_side).canvas;
            u64::from(cw) * u64::from(ch)
        })
        .collect();
    let outputs: u64 = canvases.iter().map(|px| px * pixel_bytes * 3).sum();
    let scorer = match job.visual_quality {
        Some(_) => canvases.iter().max().unwrap_or(&0) * SCORER_BYTES_PER_PIXEL,
        None => 0,
    };
    input_bytes + header.decoded_bytes + source_px * pixel_bytes * 2 + outputs + scorer
}

/// Reads the header and estimates the peak memory of converting `bytes` with `job`,
/// without decoding. The batch scheduler admits jobs by this figure.
pub fn estimate(bytes: &[u8], job: &Job) -> Result<u64> {
    job.limits.check_input_bytes(bytes.len() as u64)?;
    let format = sniff(bytes)?;
    let header = codecs::read_header(bytes, format, &job.limits, job.format.info().sixteen_bit)?;
    Ok(estimate_peak_memory(&header, bytes.len() as u64, job))
}

/// Converts one image: one output per size in the job (one at the source size if none).
pub fn convert(bytes: &[u8], job: &Job) -> Result<Vec<Output>> {
    job.validate()?;
    job.limits.check_input_bytes(bytes.len() as u64)?;
    let format = sniff(bytes)?;
    let started = Instant::now();
    // Pixels stay in their profile, and at 16 bits, only where the output can carry it.
    let info = job.format.info();
    let colour = if keeps_profile(job) {
        Colour::KeepProfile
    } else {
        Colour::Srgb
    };
    let decoded = codecs::decode(
        bytes,
        format,
        &job.limits,
        colour,
        info.sixteen_bit,
        |header| {
            job.limits
                .check_memory(estimate_peak_memory(header, bytes.len() as u64, job))
        },
    )?;
    let decode_ms = ms_since(started);
    let frames = frame_count(format, bytes);
    let mut source_notes = Vec::new();
    if frames > 1 {
        source_notes.push(Note::FramesDropped { frames });
    }
    if let Some(reason) = decoded.profile_ignored {
        source_notes.push(Note::ColorProfileIgnored { reason });
    }
    match &decoded.pixels {
        SourcePixels::Eight(pixels) => {
            encode_all(pixels, &decoded.metadata, &source_notes, decode_ms, job)
        }
        SourcePixels::Sixteen(pixels) => {
            encode_all(pixels, &decoded.metadata, &source_notes, decode_ms, job)
        }
    }
}

/// Converts pixels the browser decoded from `original` (AVIF in the wasm build, decoded
/// without colour conversion, so still in the file's profile). The container's EXIF
/// follows the metadata policy, and its profile is kept or converted to sRGB by the
/// colour policy, as [`convert`] does.
pub fn convert_browser_decoded(original: &[u8], pixels: Pixels, job: &Job) -> Result<Vec<Output>> {
    check_decoded(&pixels, job)?;
    let (exif, icc) = match Format::sniff(original) {
        Some(format @ (Format::Avif | Format::Heic)) => {
            codecs::heif::container_metadata(original, format)
        }
        _ => (None, None),
    };
    let mut notes = Vec::new();
    let (pixels, icc) = match icc {
        Some(icc) if !keeps_profile(job) => match pixels.into_srgb(&icc) {
            Ok(converted) => (converted, None),
            Err((unchanged, reason)) => {
                notes.push(Note::ColorProfileIgnored { reason });
                (unchanged, None)
            }
        },
        icc => (pixels, icc),
    };
    let metadata = Metadata {
        icc,
        exif,
        xmp: None,
    };
    encode_all(&pixels, &metadata, &notes, 0.0, job)
}

/// Pixels stay in their own profile, which the output then carries, only where the job
/// keeps profiles and the output format can hold one; elsewhere they go to sRGB.
fn keeps_profile(job: &Job) -> bool {
    job.color == ColorPolicy::Keep && job.format.info().icc
}

/// Converts pixels decoded elsewhere (the browser decodes AVIF for the wasm build) with the
/// same resize, flatten and encode steps as [`convert`].
pub fn convert_pixels(pixels: &Pixels, job: &Job) -> Result<Vec<Output>> {
    check_decoded(pixels, job)?;
    encode_all(pixels, &Metadata::default(), &[], 0.0, job)
}

/// Checks a job and pixels decoded elsewhere before anything is done with them.
fn check_decoded(pixels: &Pixels, job: &Job) -> Result<()> {
    job.validate()?;
    job.limits.check_dimensions(pixels.width, pixels.height)?;
    if pixels.data.len() != pixels.width as usize * pixels.height as usize * pixels.channels() {
        return Err(Error::invalid_options(
            "pixel buffer does not match its width and height",
        ));
    }
    Ok(())
}

/// Resizes and encodes every output.
fn encode_all<S: Sample>(
    source: &Pixels<S>,
    metadata: &Metadata,
    source_notes: &[Note],
    decode_ms: f64,
    job: &Job,
) -> Result<Vec<Output>> {
    let info = job.format.info();
    // Read before the metadata policy runs: a stripped output is still named by its date.
    let captured = metadata.exif.as_deref().and_then(exif_capture_time);
    let (metadata, metadata_notes) = metadata.for_output(job.metadata, info);
    job.output_sizes()
        .iter()
        .map(|spec| {
            let mut notes = source_notes.to_vec();
            notes.extend(metadata_notes.iter().cloned());
            let plan = Plan::new(
                source.width,
                source.height,
                spec,
                job.enlarge,
                info.max_side,
            );
            if plan.capped {
                notes.extend(
                    info.max_side
                        .map(|max_side| Note::FittedToFormat { max_side }),
                );
            }
            let started = Instant::now();
            let resized = if plan.is_identity(source.width, source.height) {
                None
            } else {
                Some(resize::apply(source, &plan, job.filter, job.background)?)
            };
            let resize_ms = ms_since(started);
            let mut pixels = resized.as_ref().unwrap_or(source);
            let flattened;
            if pixels.has_alpha && !info.alpha {
                flattened = pixels.flatten(job.background);
                pixels = &flattened;
                notes.push(Note::AlphaFlattened);
            }
            let started = Instant::now();
            let bytes = match (job.target_size, job.visual_quality) {
                (Some(target), _) => {
                    let (bytes, note) = encode_within(pixels, job, &metadata, target)?;
                    notes.extend(note);
                    bytes
                }
                (None, Some(look)) => {
                    let (bytes, chosen) =
                        visual_quality::encode_to_look(pixels, job, &metadata, look)?;
                    notes.push(Note::QualityForLook {
                        quality: chosen.quality,
                        target: look.0,
                        score: chosen.score,
                        encodes: chosen.encodes,
                    });
                    bytes
                }
                (None, None) => codecs::encode(pixels, job.format, &job.encode, &metadata)?,
            };
            let encode_ms = ms_since(started);
            Ok(Output {
                bytes,
                format: job.format,
                width: pixels.width,
                height: pixels.height,
                label: spec.label(),
                captured,
                timings: Timings {
                    decode_ms,
                    resize_ms,
                    encode_ms,
                },
                notes,
            })
        })
        .collect()
}

/// Encodes at the highest quality, up to the job's, whose file is at most `target`. The
/// job's quality is tried first (most photos fit, in one encode); otherwise a binary search
/// over 1 to quality-1 takes at most 7 more. File size grows with quality almost always but
/// not strictly, so the search keeps the best fit it has actually seen.
fn encode_within<S: Sample>(
    pixels: &Pixels<S>,
    job: &Job,
    metadata: &Metadata,
    target: ByteSize,
) -> Result<(Vec<u8>, Option<Note>)> {
    let encode_at = |quality: u8| {
        let mut options = job.encode.clone();
        options.quality = quality;
        codecs::encode(pixels, job.format, &options, metadata)
    };
    let fits = |bytes: &Vec<u8>| bytes.len() as u64 <= target.0;
    let first = encode_at(job.encode.quality)?;
    if fits(&first) {
        return Ok((first, None));
    }
    let mut smallest = first.len();
    let mut encodes = 1;
    let mut best: Option<(u8, Vec<u8>)> = None;
    let (mut low, mut high) = (1, job.encode.quality - 1);
    while low <= high {
        let quality = low + (high - low) / 2;
        let bytes = encode_at(quality)?;
        encodes += 1;
        smallest = smallest.min(bytes.len());
        if fits(&bytes) {
            best = Some((quality, bytes));
            low = quality + 1;
        } else if quality == 1 {
            break;
        } else {
            high = quality - 1;
        }
    }
    match best {
        Some((quality, bytes)) => Ok((
            bytes,
            Some(Note::QualityForTargetSize {
                quality,
                target_bytes: target.0,
                encodes,
            }),
        )),
        None => Err(Error::target_size(format!(
            "cannot fit in {target}: even at quality 1 the smallest file is {}; choose a smaller size or a larger target",
            ByteSize(smallest as u64)
        ))),
    }
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}
