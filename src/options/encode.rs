//! How each format's encoder is set: quality, JPEG chroma and effort, PNG compression, AVIF
//! speed.

use serde::{Deserialize, Serialize};

use crate::choices::{Choice, Choices, choice, choice_text_forms};

/// Encoder settings. Each format reads the fields that apply to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodeOptions {
    /// Lossy quality 1-100 (JPEG, WebP, AVIF). Default 82.
    pub quality: u8,
    /// Progressive JPEG (renders coarse-to-fine). Default off: at photo qualities it saves
    /// at most 2% on top of trellis and costs 1.8x its encode time, and without trellis it
    /// makes files larger (BENCHMARKS.md, "JPEG encoder vs cjpeg").
    pub progressive: bool,
    pub chroma: ChromaSubsampling,
    pub jpeg_preset: JpegPreset,
    /// WebP only: write lossless (VP8L) instead of lossy (VP8). Default off: for photos a
    /// lossless WebP is larger than the JPEG it came from. The quality is then unused.
    pub lossless: bool,
    pub png_compression: PngCompression,
    /// AVIF encoder speed, 1 (smallest files, slowest) to 10 (fastest). Default 6. AV1 is
    /// slow to write: seconds per photo, where JPEG takes a tenth of a second.
    pub avif_speed: u8,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            quality: 82,
            progressive: false,
            chroma: ChromaSubsampling::default(),
            jpeg_preset: JpegPreset::default(),
            lossless: false,
            png_compression: PngCompression::default(),
            avif_speed: 6,
        }
    }
}

/// Chroma subsampling for JPEG. 4:2:0 halves colour resolution both ways (smallest, the
/// camera default); 4:4:4 keeps it (for text, graphics and red detail).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChromaSubsampling {
    #[default]
    S420,
    S422,
    S444,
}

impl Choices for ChromaSubsampling {
    const WHAT: &'static str = "chroma subsampling";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(
            ChromaSubsampling::S420,
            "420",
            "4:2:0, half the colour resolution (photos)",
        ),
        choice(
            ChromaSubsampling::S422,
            "422",
            "4:2:2, half the colour resolution across",
        ),
        choice(
            ChromaSubsampling::S444,
            "444",
            "4:4:4, full colour resolution (graphics and text)",
        ),
    ];
}

/// JPEG encoder effort. The default is the fastest: encoding is most of a conversion's time,
/// and trellis buys about a tenth of the bytes for several times the encode time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JpegPreset {
    /// mozjpeg's quantisation tables and optimised Huffman tables, no trellis.
    #[default]
    Fast,
    /// Adds trellis quantisation and deringing.
    Balanced,
    /// Balanced, progressive, with scan optimisation.
    Smallest,
}

impl Choices for JpegPreset {
    const WHAT: &'static str = "JPEG effort";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(JpegPreset::Fast, "fast", "Fast: no trellis, the quickest"),
        choice(
            JpegPreset::Balanced,
            "balanced",
            "Smaller: trellis quantisation, about 10% less, 4x the encode time",
        ),
        choice(
            JpegPreset::Smallest,
            "smallest",
            "Smallest: trellis and progressive scans, a little less again, 8x the encode time",
        ),
    ];
}

/// PNG deflate effort, from fastest to smallest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PngCompression {
    Fastest,
    #[default]
    Fast,
    Balanced,
    Max,
}

impl Choices for PngCompression {
    const WHAT: &'static str = "PNG compression";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(PngCompression::Fastest, "fastest", "Fastest, largest files"),
        choice(PngCompression::Fast, "fast", "Fast"),
        choice(PngCompression::Balanced, "balanced", "Balanced"),
        choice(PngCompression::Max, "max", "Smallest files, slowest"),
    ];
}

choice_text_forms!(ChromaSubsampling, JpegPreset, PngCompression);
