//! What a conversion should do: the [`Job`] and everything in it, with parsers for the short
//! text forms the CLI and the web page share (`"2048"`, `"800x600:cover"`, `"50%"`, `"#fff"`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::choices::{Choice, Choices, choice, choice_text_forms};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;

/// One conversion: applied to every input of a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Job {
    /// Output format. Must be encodable.
    pub format: Format,
    pub encode: EncodeOptions,
    /// One output per spec. Empty means one output at the source size.
    pub sizes: Vec<ResizeSpec>,
    pub filter: Filter,
    /// Allow outputs larger than the source. Off by default: enlarging only adds blur.
    pub enlarge: bool,
    pub metadata: MetadataPolicy,
    /// What happens to colours described by an embedded ICC profile.
    pub color: ColorPolicy,
    /// Colour behind transparent pixels for formats without alpha, and for `contain` padding.
    pub background: Rgb,
    /// Largest file each output may be (lossy formats). The quality is then searched, up to
    /// `encode.quality`, for the best output at or under it.
    pub target_size: Option<ByteSize>,
    /// How good each output must look, as a SSIMULACRA2 score: the quality is searched for
    /// the smallest file that reaches it (lossy formats this build can also read back).
    pub visual_quality: Option<VisualQuality>,
    pub limits: Limits,
}

impl Default for Job {
    fn default() -> Self {
        Job {
            format: Format::Jpeg,
            encode: EncodeOptions::default(),
            sizes: Vec::new(),
            filter: Filter::default(),
            enlarge: false,
            metadata: MetadataPolicy::default(),
            color: ColorPolicy::default(),
            background: Rgb::WHITE,
            target_size: None,
            visual_quality: None,
            limits: Limits::default(),
        }
    }
}

impl Job {
    pub fn new(format: Format) -> Self {
        Job {
            format,
            ..Job::default()
        }
    }

    /// The sizes this job makes, one output each: its own, or the source size when it
    /// names none.
    pub fn output_sizes(&self) -> &[ResizeSpec] {
        if self.sizes.is_empty() {
            &[ResizeSpec::Original]
        } else {
            &self.sizes
        }
    }

    /// The output is lossy and takes a quality: a lossy format not switched to lossless.
    pub fn is_lossy(&self) -> bool {
        self.format.info().lossy && !(self.encode.lossless && self.format.info().lossless_option)
    }

    /// `what` chooses the quality itself, which a lossless output does not have.
    fn needs_lossy(&self, what: &str) -> Error {
        let info = self.format.info();
        Error::invalid_options(format!(
            "{what} needs a lossy output format such as JPEG; {}{} is lossless",
            if info.lossy { "lossless " } else { "" },
            info.name
        ))
    }

    /// Rejects contradictory or out-of-range settings before any file is touched.
    pub fn validate(&self) -> Result<()> {
        let info = self.format.info();
        if !info.can_encode {
            return Err(Error::unsupported(format!(
                "cannot write {} in this build",
                info.name
            )));
        }
        if !QUALITY_RANGE.contains(&self.encode.quality) {
            return Err(Error::invalid_options(format!(
                "quality {} is outside {}-{}",
                self.encode.quality,
                QUALITY_RANGE.start(),
                QUALITY_RANGE.end()
            )));
        }
        if !AVIF_SPEED_RANGE.contains(&self.encode.avif_speed) {
            return Err(Error::invalid_options(format!(
                "AVIF speed {} is outside {}-{}",
                self.encode.avif_speed,
                AVIF_SPEED_RANGE.start(),
                AVIF_SPEED_RANGE.end()
            )));
        }
        for spec in &self.sizes {
            spec.validate()?;
        }
        if let Some(target) = self.target_size
            && !self.is_lossy()
        {
            return Err(self.needs_lossy(&format!("a target file size ({target})")));
        }
        if let Some(look) = self.visual_quality {
            look.validate()?;
            if self.target_size.is_some() {
                return Err(Error::invalid_options(
                    "choose a visual quality or a target file size, not both: each sets the quality",
                ));
            }
            if !self.is_lossy() {
                return Err(self.needs_lossy("a visual quality"));
            }
            // Scoring decodes every attempt, and the browser build reads AVIF through the
            // browser, which the engine cannot call in the middle of a search.
            if !info.can_decode {
                return Err(Error::invalid_options(format!(
                    "a visual quality for {} needs a decoder this build lacks; choose a quality number",
                    info.name
                )));
            }
        }
        Ok(())
    }
}

/// The qualities lossy formats take.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 1..=100;
/// AVIF encoder speeds, slowest (smallest files) first.
pub const AVIF_SPEED_RANGE: std::ops::RangeInclusive<u8> = 1..=10;

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

/// Resampling filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    #[default]
    Lanczos3,
    Mitchell,
    CatmullRom,
    Bilinear,
    Box,
    Nearest,
}

impl Choices for Filter {
    const WHAT: &'static str = "filter";
    const CHOICES: &'static [Choice<Self>] = &[
        Choice {
            aliases: &["lanczos"],
            ..choice(Filter::Lanczos3, "lanczos3", "Lanczos 3: the sharpest")
        },
        choice(Filter::Mitchell, "mitchell", "Mitchell: softer, no ringing"),
        Choice {
            aliases: &["catmull-rom"],
            ..choice(Filter::CatmullRom, "catmullrom", "Catmull-Rom: sharp")
        },
        choice(Filter::Bilinear, "bilinear", "Bilinear: fast, soft"),
        choice(Filter::Box, "box", "Box: averages, for pixel art halving"),
        choice(Filter::Nearest, "nearest", "Nearest: hard pixel edges"),
    ];
}

/// What happens to metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetadataPolicy {
    /// Drop EXIF (camera, date, GPS), XMP, IPTC and comments; keep the ICC colour profile,
    /// because without it colours shift.
    #[default]
    Strip,
    /// Carry EXIF (orientation reset to upright), ICC and XMP into outputs that hold them.
    Keep,
    /// As `Keep`, but without the location: the EXIF GPS block and XMP's GPS and place
    /// fields are removed. Camera, lens and capture date stay.
    StripGps,
}

impl Choices for MetadataPolicy {
    const WHAT: &'static str = "metadata policy";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(
            MetadataPolicy::Strip,
            "strip",
            "Remove private metadata (keeps colour profile)",
        ),
        choice(
            MetadataPolicy::StripGps,
            "strip-gps",
            "Keep metadata, remove location",
        ),
        choice(MetadataPolicy::Keep, "keep", "Keep all metadata"),
    ];
}

/// How an exact `WxH` box is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Scale to fit inside the box, keep the aspect ratio; the output is at most W×H.
    Inside,
    /// Scale to fit inside, then pad to exactly W×H with the background colour.
    Contain,
    /// Scale to cover the box, then crop the centre to exactly W×H.
    Cover,
    /// Stretch to exactly W×H, ignoring the aspect ratio.
    Fill,
}

impl Choices for Fit {
    const WHAT: &'static str = "fit";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(Fit::Inside, "inside", "Fit inside"),
        choice(Fit::Contain, "contain", "Contain (pad)"),
        choice(Fit::Cover, "cover", "Cover (crop)"),
        choice(Fit::Fill, "fill", "Fill (stretch)"),
    ];
}

/// One output size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResizeSpec {
    /// Keep the source size.
    Original,
    /// The longer side becomes N.
    LongEdge { px: u32 },
    /// The shorter side becomes N.
    ShortEdge { px: u32 },
    /// The width becomes N, height follows.
    Width { px: u32 },
    /// The height becomes N, width follows.
    Height { px: u32 },
    /// A W×H box, filled as `fit` says.
    Box { width: u32, height: u32, fit: Fit },
    /// Scale both sides by a percentage.
    Percent { percent: f32 },
}

impl ResizeSpec {
    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid_options(what));
        match *self {
            ResizeSpec::LongEdge { px }
            | ResizeSpec::ShortEdge { px }
            | ResizeSpec::Width { px }
            | ResizeSpec::Height { px }
                if px == 0 =>
            {
                bad("a size of 0 px".into())
            }
            ResizeSpec::Box { width, height, .. } if width == 0 || height == 0 => {
                bad(format!("a {width}x{height} box"))
            }
            ResizeSpec::Percent { percent } if !(percent > 0.0 && percent <= 1000.0) => {
                bad(format!("{percent}% is outside 0-1000%"))
            }
            _ => Ok(()),
        }
    }

    /// A short label for file names: `2048`, `800x600`, `50pct`, `orig`.
    pub fn label(&self) -> String {
        match *self {
            ResizeSpec::Original => "orig".into(),
            ResizeSpec::LongEdge { px } => px.to_string(),
            ResizeSpec::ShortEdge { px } => format!("s{px}"),
            ResizeSpec::Width { px } => format!("w{px}"),
            ResizeSpec::Height { px } => format!("h{px}"),
            ResizeSpec::Box {
                width,
                height,
                fit: Fit::Inside,
            } => format!("{width}x{height}"),
            ResizeSpec::Box { width, height, fit } => format!("{width}x{height}-{}", fit.name()),
            ResizeSpec::Percent { percent } => format!("{percent}pct"),
        }
    }
}

/// The text form of a size, shared by the CLI and the web page:
///
/// | text | meaning |
/// |---|---|
/// | `orig` | source size |
/// | `2048` | long edge 2048 |
/// | `s720` | short edge 720 |
/// | `w720`, `h480` | width 720 / height 480 |
/// | `800x600` | fit inside 800×600 |
/// | `800x600:cover` | exactly 800×600, fit `inside`, `contain`, `cover` or `fill` |
/// | `50%` | half size |
impl FromStr for ResizeSpec {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        let s = text.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid_options(format!(
                "cannot read size '{text}' (try 2048, s720, w720, h480, 800x600, 800x600:cover, 50%)"
            ))
        };
        let px = |digits: &str| digits.parse::<u32>().map_err(|_| bad());
        let spec = if s == "orig" || s == "original" {
            ResizeSpec::Original
        } else if let Some(p) = s.strip_suffix('%') {
            ResizeSpec::Percent {
                percent: p.parse::<f32>().map_err(|_| bad())?,
            }
        } else if let Some(n) = s.strip_prefix('s') {
            ResizeSpec::ShortEdge { px: px(n)? }
        } else if let Some(n) = s.strip_prefix('w') {
            ResizeSpec::Width { px: px(n)? }
        } else if let Some(n) = s.strip_prefix('h') {
            ResizeSpec::Height { px: px(n)? }
        } else if let Some((dims, fit)) = s.split_once('x').map(|(w, rest)| {
            let (h, fit) = rest.split_once(':').unwrap_or((rest, "inside"));
            ((w.to_string(), h.to_string()), fit.to_string())
        }) {
            ResizeSpec::Box {
                width: px(&dims.0)?,
                height: px(&dims.1)?,
                fit: fit.parse()?,
            }
        } else {
            ResizeSpec::LongEdge { px: px(&s)? }
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// What happens to colours described by an embedded ICC profile (Display P3 from phones,
/// Adobe RGB from cameras, CMYK from print files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorPolicy {
    /// Keep the pixels and embed the source profile, so wide-gamut colours survive. Where
    /// the output cannot carry that profile (AVIF, GIF, BMP, QOI, ICO; a CMYK or grey profile on
    /// RGB output) the pixels are converted to sRGB instead, so colours never shift.
    #[default]
    Keep,
    /// Convert the pixels to sRGB and tag the output as sRGB: what most web pages and
    /// upload forms expect.
    Srgb,
}

impl Choices for ColorPolicy {
    const WHAT: &'static str = "colour policy";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(
            ColorPolicy::Keep,
            "keep",
            "Keep the photo's colour profile (wide colour stays wide)",
        ),
        choice(
            ColorPolicy::Srgb,
            "srgb",
            "Convert to sRGB (what most websites expect)",
        ),
    ];
}

choice_text_forms!(
    ChromaSubsampling,
    JpegPreset,
    PngCompression,
    Filter,
    MetadataPolicy,
    Fit,
    ColorPolicy,
);

/// A file size in bytes, written `500K`, `1.5M` or `800000` (also `500KB`, `1.5MB`). K is
/// 1,000 bytes: a file under "500K" is then under 500 KB and 500 KiB alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let text = s.trim().to_ascii_uppercase();
        let text = text.strip_suffix('B').unwrap_or(&text);
        let (number, unit) = match text.char_indices().last() {
            Some((at, 'K')) => (&text[..at], 1e3),
            Some((at, 'M')) => (&text[..at], 1e6),
            _ => (text, 1.0),
        };
        let bytes = number
            .trim()
            .parse::<f64>()
            .ok()
            .map(|n| (n * unit).floor());
        match bytes {
            Some(b) if (1.0..1e15).contains(&b) => Ok(ByteSize(b as u64)),
            _ => Err(Error::invalid_options(format!(
                "cannot read the file size '{s}' (write it as 500K, 1.5M or 800000)"
            ))),
        }
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            b if b >= 1_000_000 => write!(f, "{} MB", b as f64 / 1e6),
            b if b >= 1_000 => write!(f, "{} KB", b as f64 / 1e3),
            b => write!(f, "{b} bytes"),
        }
    }
}

/// A SSIMULACRA2 score (1-100) every output must reach: 90 is visually lossless, 80 high,
/// 70 what the web usually serves. Written as a number or a level's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VisualQuality(pub u8);

/// A named visual-quality level, for the CLI's help and the page's picker.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct VisualLevel {
    pub name: &'static str,
    pub score: u8,
    pub description: &'static str,
}

impl VisualQuality {
    pub const LEVELS: [VisualLevel; 3] = [
        VisualLevel {
            name: "visually-lossless",
            score: 90,
            description: "no difference seen side by side, even zoomed in",
        },
        VisualLevel {
            name: "high",
            score: 80,
            description: "differences only when looked for",
        },
        VisualLevel {
            name: "web",
            score: 70,
            description: "what most web pages serve; small artefacts up close",
        },
    ];

    pub(crate) fn validate(self) -> Result<()> {
        if (1..=100).contains(&self.0) {
            Ok(())
        } else {
            Err(Error::invalid_options(format!(
                "visual quality {} is outside 1-100",
                self.0
            )))
        }
    }
}

impl FromStr for VisualQuality {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let text = s.trim().to_ascii_lowercase();
        let level = Self::LEVELS.iter().find(|level| level.name == text);
        let quality = match (level, text.parse::<u8>()) {
            (Some(level), _) => VisualQuality(level.score),
            (None, Ok(score)) => VisualQuality(score),
            (None, Err(_)) => {
                return Err(Error::invalid_options(format!(
                    "cannot read the visual quality '{s}' (a score 1-100, or visually-lossless, high, web)"
                )));
            }
        };
        quality.validate()?;
        Ok(quality)
    }
}

/// An opaque 8-bit sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    pub const WHITE: Rgb = Rgb([255, 255, 255]);
}

impl std::fmt::Display for Rgb {
    /// `#rrggbb`, which [`Rgb::from_str`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

impl FromStr for Rgb {
    type Err = Error;
    /// `#rrggbb`, `rrggbb`, `#rgb`, `white` or `black`.
    fn from_str(text: &str) -> Result<Self> {
        let s = text.trim().trim_start_matches('#').to_ascii_lowercase();
        let bad = || Error::invalid_options(format!("cannot read colour '{text}' (try #ffffff)"));
        let hex = |h: &str| u8::from_str_radix(h, 16).map_err(|_| bad());
        match s.as_str() {
            "white" => Ok(Rgb::WHITE),
            "black" => Ok(Rgb([0, 0, 0])),
            _ if s.len() == 6 && s.is_ascii() => {
                Ok(Rgb([hex(&s[0..2])?, hex(&s[2..4])?, hex(&s[4..6])?]))
            }
            _ if s.len() == 3 && s.is_ascii() => {
                let d = |i: usize| hex(&s[i..i + 1]).map(|v| v * 17);
                Ok(Rgb([d(0)?, d(1)?, d(2)?]))
            }
            _ => Err(bad()),
        }
    }
}
