//! Limits: how big an input may be, checked from the header before any pixel is allocated.

use crate::error::{Error, Result};

/// What one file may cost. Every field is checked from the file's header (its declared
/// size), before a pixel buffer exists, so a decompression bomb is refused rather than tried.
///
/// The defaults cover every real camera and phone photo (a 150 MP medium-format file fits)
/// while refusing the absurd sizes fuzzers and bombs declare.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest input file, in bytes. Default 512 MiB.
    pub max_input_bytes: u64,
    /// Largest width or height, in pixels, of the decoded image. Default 40,000.
    pub max_side: u32,
    /// Most pixels in one decoded image. Default 200 million (800 MB as 8-bit RGBA).
    pub max_pixels: u64,
    /// Largest estimated peak memory for converting one file, in bytes. Default 3 GiB.
    pub max_memory: u64,
    /// Largest inflated size of one compressed PNG text chunk. Default 1 MiB, as Pillow:
    /// a small file whose text inflates to megabytes is a decompression bomb.
    pub max_text_chunk: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 512 << 20,
            max_side: 40_000,
            max_pixels: 200_000_000,
            max_memory: 3 << 30,
            max_text_chunk: 1 << 20,
        }
    }
}

impl Limits {
    /// No practical limit. For trusted inputs only.
    pub fn none() -> Self {
        Limits {
            max_input_bytes: u64::MAX,
            max_side: u32::MAX,
            max_pixels: u64::MAX,
            max_memory: u64::MAX,
            max_text_chunk: u64::MAX,
        }
    }

    pub fn check_input_bytes(&self, len: u64) -> Result<()> {
        if len > self.max_input_bytes {
            return Err(Error::limit(format!(
                "file is {} bytes, over the {}-byte limit",
                len, self.max_input_bytes
            )));
        }
        Ok(())
    }

    /// Checks the size the header declares.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(Error::decode(format!(
                "header declares an empty image ({width}x{height})"
            )));
        }
        self.check_extent(u64::from(width), u64::from(height))
    }

    /// Checks a size declared anywhere in the file (a GIF frame, a BMP header) against the
    /// side and pixel limits.
    pub fn check_extent(&self, width: u64, height: u64) -> Result<()> {
        if width > u64::from(self.max_side) || height > u64::from(self.max_side) {
            return Err(Error::limit(format!(
                "image declares {width}x{height}, over the {} px per side limit",
                self.max_side
            )));
        }
        let pixels = width.saturating_mul(height);
        if pixels > self.max_pixels {
            return Err(Error::limit(format!(
                "image declares {width}x{height} = {pixels} pixels, over the {} pixel limit",
                self.max_pixels
            )));
        }
        Ok(())
    }

    /// `inflated` is as far as the chunk was inflated: callers stop just past the limit, so
    /// a bomb costs little work, and its full size is then not known.
    pub fn check_text_chunk(&self, inflated: u64) -> Result<()> {
        if inflated > self.max_text_chunk {
            return Err(Error::limit(format!(
                "a PNG text chunk inflates past the {}-byte limit: stopped at {inflated} bytes (decompression bomb)",
                self.max_text_chunk
            )));
        }
        Ok(())
    }

    /// Checks an estimated peak memory for one conversion.
    pub fn check_memory(&self, bytes: u64) -> Result<()> {
        if bytes > self.max_memory {
            return Err(Error::limit(format!(
                "converting needs about {} MiB, over the {} MiB memory limit",
                bytes >> 20,
                self.max_memory >> 20
            )));
        }
        Ok(())
    }

    /// The same limits in image-rs's terms, a second line of defence inside its decoders.
    pub(crate) fn to_image_limits(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_side);
        limits.max_image_height = Some(self.max_side);
        limits.max_alloc = Some(self.max_memory);
        limits
    }
}
