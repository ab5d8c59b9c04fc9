//! What the quality search aims at: a largest file size ([`ByteSize`]) or a look
//! ([`VisualQuality`], a SSIMULACRA2 score).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
