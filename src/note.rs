//! What a report says about an output that is not an error, with its sentence. Its own
//! module, so metadata and the pipeline can both use it without importing each other.

use serde::Serialize;

use crate::options::ByteSize;

/// Something the user should know about an output that is not an error.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Note {
    /// The input was animated; only its first frame was converted.
    FramesDropped { frames: u32 },
    /// Transparent pixels were composited onto the background (the format has no alpha).
    AlphaFlattened,
    /// The output was shrunk to fit the format's maximum size (ICO: 256).
    FittedToFormat { max_side: u32 },
    /// The embedded colour profile could not be used; colours are as decoded.
    ColorProfileIgnored { reason: String },
    /// Under `strip-gps`, a metadata block was left out whole: the location in it could not
    /// be removed safely.
    MetadataDropped { block: String, reason: String },
    /// The quality was lowered to meet the target file size.
    QualityForTargetSize {
        quality: u8,
        target_bytes: u64,
        encodes: u32,
    },
    /// The quality was searched for the smallest file that looks as good as asked. `score`
    /// is the output's SSIMULACRA2; `None` when the image is too small (under 8 px) to score.
    QualityForLook {
        quality: u8,
        target: u8,
        score: Option<f64>,
        encodes: u32,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::FramesDropped { frames } => {
                write!(f, "animated: kept the first of {frames} frames")
            }
            Note::AlphaFlattened => f.write_str("transparency flattened onto the background"),
            Note::FittedToFormat { max_side } => {
                write!(f, "shrunk to fit the format's {max_side} px maximum")
            }
            Note::ColorProfileIgnored { reason } => {
                write!(f, "colour profile not applied: {reason}")
            }
            Note::MetadataDropped { block, reason } => {
                write!(f, "{block} left out so no location leaks: {reason}")
            }
            Note::QualityForTargetSize {
                quality,
                target_bytes,
                ..
            } => write!(
                f,
                "quality {quality}, the highest that fits in {}",
                ByteSize(*target_bytes)
            ),
            Note::QualityForLook {
                quality,
                target,
                score: Some(score),
                ..
            } if *score >= f64::from(*target) => write!(
                f,
                "quality {quality}, the lowest that looks {target} or better (SSIMULACRA2 {score:.1})"
            ),
            Note::QualityForLook {
                quality,
                target,
                score: Some(score),
                ..
            } => write!(
                f,
                "quality {quality} reaches only SSIMULACRA2 {score:.1}, short of the {target} asked"
            ),
            Note::QualityForLook {
                quality,
                score: None,
                ..
            } => write!(f, "quality {quality}: too small (under 8 px) to score"),
        }
    }
}
