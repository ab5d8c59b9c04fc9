//! What a conversion should do: the [`Job`] and everything in it, with parsers for the short
//! text forms the CLI and the web page share (`"2048"`, `"800x600:cover"`, `"50%"`, `"#fff"`).
//! The job is here; its parts live in one file each, by what they decide.

mod encode;
mod policy;
mod rgb;
mod size;
mod target;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;

pub use encode::{ChromaSubsampling, EncodeOptions, JpegPreset, PngCompression};
pub use policy::{ColorPolicy, MetadataPolicy};
pub use rgb::Rgb;
pub use size::{Filter, Fit, ResizeSpec};
pub use target::{ByteSize, VisualLevel, VisualQuality};

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
