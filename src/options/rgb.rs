//! The background colour, behind transparency and around `contain` padding.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
