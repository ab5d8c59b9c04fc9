//! The sizes of the outputs: [`ResizeSpec`] and its text form, how a box is filled ([`Fit`])
//! and the resampling [`Filter`].

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::choices::{Choice, Choices, choice, choice_text_forms};
use crate::error::{Error, Result};

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
    pub(super) fn validate(&self) -> Result<()> {
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

choice_text_forms!(Filter, Fit);
