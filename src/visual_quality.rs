//! The visual-quality target: each output is written at the lowest encoder quality whose
//! result still scores at least N in SSIMULACRA2 against the pixels it was encoded from.
//! The same quality number looks fine on one photo and blocky on the next; a score says
//! how good the result must look, and the search finds the smallest file that does.

use ssimulacra2::LinearRgb;

use crate::codecs::{self, Colour};
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::options::{Job, Rgb, VisualQuality};
use crate::pixels::{Pixels, Sample};

/// Bytes per output pixel the scorer holds at its peak: both images in linear light and in
/// XYB, their products and five blurred planes, all 3 x f32 (measured on ssimulacra2 0.5).
pub(crate) const SCORER_BYTES_PER_PIXEL: u64 = 160;

/// The highest quality the search may choose, and the lowest.
const QUALITIES: (u8, u8) = (1, 100);

/// The quality a search chose, and what its output scored (`None`: too small to score).
pub(crate) struct Chosen {
    pub quality: u8,
    pub score: Option<f64>,
    pub encodes: u32,
}

/// Encodes `pixels` at the lowest quality whose output scores at least `target`.
///
/// A binary search over 1-100 takes at most 7 encodes (8 when even 100 falls short) and
/// keeps the invariant the tests check: the chosen quality scored at least the target and
/// one step lower was tried and scored below it. The source's conversion to linear light is
/// done once and shared by every attempt. Images under 8 px a side cannot be scored; they
/// are written at the job's quality, and the note says so.
pub(crate) fn encode_to_look<S: Sample>(
    pixels: &Pixels<S>,
    job: &Job,
    metadata: &Metadata,
    target: VisualQuality,
) -> Result<(Vec<u8>, Chosen)> {
    let encode_at = |quality: u8| {
        let mut options = job.encode.clone();
        options.quality = quality;
        codecs::encode(pixels, job.format, &options, metadata)
    };
    if pixels.width < 8 || pixels.height < 8 {
        let quality = job.encode.quality;
        let chosen = Chosen {
            quality,
            score: None,
            encodes: 1,
        };
        return Ok((encode_at(quality)?, chosen));
    }
    let reference = linear(&pixels.eight_bit(), job.background);
    let mut encodes = 0;
    let mut attempt = |quality: u8| -> Result<(u8, Vec<u8>, f64)> {
        let bytes = encode_at(quality)?;
        encodes += 1;
        let score = score(&reference, &bytes, job)?;
        Ok((quality, bytes, score))
    };
    let reaches = |score: f64| score >= f64::from(target.0);
    let (mut low, mut high) = QUALITIES;
    let mut lowest_passing = None;
    while low < high {
        let mid = low + (high - low) / 2;
        let tried = attempt(mid)?;
        if reaches(tried.2) {
            high = mid;
            lowest_passing = Some(tried);
        } else {
            low = mid + 1;
        }
    }
    let (quality, bytes, score) = match lowest_passing {
        Some(tried) if tried.0 == low => tried,
        // Every attempt fell short, so the top quality was never tried.
        _ => attempt(low)?,
    };
    let chosen = Chosen {
        quality,
        score: Some((score * 100.0).round() / 100.0),
        encodes,
    };
    Ok((bytes, chosen))
}

/// SSIMULACRA2 of an encoded output against the linear-light source it was encoded from.
fn score(reference: &LinearRgb, encoded: &[u8], job: &Job) -> Result<f64> {
    // The output is ours and was just written within the job's limits; its colour profile is
    // the source's, so both sides are compared as the same numbers.
    let decoded = codecs::decode(
        encoded,
        job.format,
        &job.limits,
        Colour::AsDecoded,
        false,
        |_| Ok(()),
    )?
    .pixels
    .into_eight_bit();
    ssimulacra2::compute_frame_ssimulacra2(reference.clone(), linear(&decoded, job.background))
        .map_err(|e| Error::internal(format!("cannot score the output: {e}")))
}

/// 8-bit sRGB-coded pixels in linear light, as the metric takes them. Transparent pixels are
/// seen over the job's background on both sides, as formats without alpha would show them.
fn linear(pixels: &Pixels, background: Rgb) -> LinearRgb {
    let flattened;
    let opaque = if pixels.has_alpha {
        flattened = pixels.flatten(background);
        &flattened
    } else {
        pixels
    };
    let table = srgb_to_linear_table();
    let data = opaque
        .data
        .chunks_exact(3)
        .map(|p| {
            [
                table[p[0] as usize],
                table[p[1] as usize],
                table[p[2] as usize],
            ]
        })
        .collect();
    LinearRgb::new(data, opaque.width as usize, opaque.height as usize)
        .expect("one pixel per three samples")
}

/// The sRGB transfer function for every 8-bit code: 256 evaluations instead of one per sample.
fn srgb_to_linear_table() -> [f32; 256] {
    std::array::from_fn(|code| {
        let v = code as f32 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    })
}
