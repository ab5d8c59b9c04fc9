//! The in-memory image the pipeline works on: sRGB or the source's profile, RGB or RGBA
//! with straight alpha, rows packed, at 8 bits a sample, or 16 where the source has them and
//! the output can keep them (PNG, TIFF).

use std::borrow::Cow;

use crate::options::Rgb;

/// One channel value: `u8`, or `u16` for deep sources on their way to a deep output.
/// Sealed: code across the engine takes "not 8 bits" to mean 16.
pub trait Sample:
    sealed::Sealed + bytemuck::Pod + Default + Eq + std::fmt::Debug + Send + Sync
{
    const BITS: u32;
    /// Full intensity, and opaque alpha.
    const MAX: u32;
    fn to_u32(self) -> u32;
    /// `v` is at most [`Sample::MAX`].
    fn from_u32(v: u32) -> Self;
    /// The same intensity from an 8-bit value (0xAB is 0xABAB at 16 bits).
    fn from_u8(v: u8) -> Self;
    /// The image at 8 bits: borrowed when it already is.
    fn eight_bit(pixels: &Pixels<Self>) -> Cow<'_, Pixels<u8>>;
    /// Samples as PNG stores them (big-endian): borrowed when they already are.
    fn big_endian(samples: &[Self]) -> Cow<'_, [u8]>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
}

impl Sample for u8 {
    const BITS: u32 = 8;
    const MAX: u32 = 255;
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
    fn from_u32(v: u32) -> Self {
        v as u8
    }
    fn from_u8(v: u8) -> Self {
        v
    }
    fn eight_bit(pixels: &Pixels<u8>) -> Cow<'_, Pixels<u8>> {
        Cow::Borrowed(pixels)
    }
    fn big_endian(samples: &[u8]) -> Cow<'_, [u8]> {
        Cow::Borrowed(samples)
    }
}

impl Sample for u16 {
    const BITS: u32 = 16;
    const MAX: u32 = 65535;
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
    fn from_u32(v: u32) -> Self {
        v as u16
    }
    fn from_u8(v: u8) -> Self {
        u16::from(v) * 257
    }
    fn eight_bit(pixels: &Pixels<u16>) -> Cow<'_, Pixels<u8>> {
        Cow::Owned(Pixels {
            width: pixels.width,
            height: pixels.height,
            has_alpha: pixels.has_alpha,
            data: pixels
                .data
                .iter()
                .map(|&v| ((u32::from(v) * 255 + 32767) / 65535) as u8)
                .collect(),
        })
    }
    fn big_endian(samples: &[u16]) -> Cow<'_, [u8]> {
        Cow::Owned(samples.iter().flat_map(|v| v.to_be_bytes()).collect())
    }
}

/// `colour` over `background` at coverage `alpha`, rounded once: the blend that flattening
/// and premultiplying (over black) share.
fn over<S: Sample>(colour: S, alpha: u32, background: u32) -> S {
    let max = u64::from(S::MAX);
    let (a, b) = (u64::from(alpha), u64::from(background));
    S::from_u32(((u64::from(colour.to_u32()) * a + b * (max - a) + max / 2) / max) as u32)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels<S: Sample = u8> {
    pub width: u32,
    pub height: u32,
    /// 4 channels (RGBA, straight alpha) when any pixel is not opaque, else 3 (RGB).
    pub has_alpha: bool,
    pub data: Vec<S>,
}

/// A decoded image at the depth it is kept at: 16 bits only when the source had them and
/// the output can hold them; 8 otherwise, so nothing deeper is carried for nothing.
#[derive(Clone, Debug)]
pub enum SourcePixels {
    Eight(Pixels<u8>),
    Sixteen(Pixels<u16>),
}

/// The decoder gives 16-bit integer samples (PNG, TIFF, PNM at 16 bits; JPEG XL, HEIC and
/// AVIF deeper than 8). Float images (HDR, EXR) are clipped to 8 bits, as before.
pub(crate) fn is_sixteen_bit(color: image::ColorType) -> bool {
    use image::ColorType as C;
    matches!(color, C::L16 | C::La16 | C::Rgb16 | C::Rgba16)
}

impl SourcePixels {
    /// Converts any decoded image to RGB or RGBA, at 16 bits when `keep_sixteen_bit` and
    /// the image has them, else at 8.
    pub(crate) fn from_dynamic(image: image::DynamicImage, keep_sixteen_bit: bool) -> Self {
        let (width, height) = (image.width(), image.height());
        let alpha = image.color().has_alpha();
        if keep_sixteen_bit && is_sixteen_bit(image.color()) {
            return SourcePixels::Sixteen(if alpha {
                Pixels::from_rgba(width, height, image.into_rgba16().into_raw())
            } else {
                Pixels::rgb(width, height, image.into_rgb16().into_raw())
            });
        }
        SourcePixels::Eight(if alpha {
            Pixels::from_rgba(width, height, image.into_rgba8().into_raw())
        } else {
            Pixels::rgb(width, height, image.into_rgb8().into_raw())
        })
    }

    /// Premultiplied alpha back to straight, at whatever depth the pixels are.
    pub(crate) fn unpremultiply(&mut self) {
        match self {
            SourcePixels::Eight(p) if p.has_alpha => unpremultiply(&mut p.data),
            SourcePixels::Sixteen(p) if p.has_alpha => unpremultiply(&mut p.data),
            _ => {}
        }
    }

    /// The pixels at 8 bits.
    pub fn into_eight_bit(self) -> Pixels<u8> {
        match self {
            SourcePixels::Eight(p) => p,
            SourcePixels::Sixteen(p) => p.eight_bit().into_owned(),
        }
    }
}

impl Pixels<u8> {
    /// The pixels converted from the colour space `icc` describes to sRGB; on failure the
    /// pixels come back unchanged with the reason.
    pub(crate) fn into_srgb(self, icc: &[u8]) -> std::result::Result<Self, (Self, String)> {
        let (width, height, alpha) = (self.width, self.height, self.has_alpha);
        let mut image = if alpha {
            image::RgbaImage::from_raw(width, height, self.data).map(image::DynamicImage::from)
        } else {
            image::RgbImage::from_raw(width, height, self.data).map(image::DynamicImage::from)
        }
        .expect("the buffer matches its width and height");
        match crate::color::to_srgb(&mut image, icc) {
            Ok(()) => Ok(SourcePixels::from_dynamic(image, false).into_eight_bit()),
            Err(reason) => Err((
                SourcePixels::from_dynamic(image, false).into_eight_bit(),
                reason,
            )),
        }
    }
}

impl<S: Sample> Pixels<S> {
    pub fn channels(&self) -> usize {
        if self.has_alpha { 4 } else { 3 }
    }

    fn rgb(width: u32, height: u32, data: Vec<S>) -> Self {
        Pixels {
            width,
            height,
            has_alpha: false,
            data,
        }
    }

    /// RGBA samples, with an alpha channel that is opaque everywhere dropped: it costs a
    /// third more memory and time and changes nothing.
    pub fn from_rgba(width: u32, height: u32, rgba: Vec<S>) -> Self {
        let opaque = S::from_u32(S::MAX);
        if rgba.chunks_exact(4).any(|p| p[3] != opaque) {
            return Pixels {
                width,
                height,
                has_alpha: true,
                data: rgba,
            };
        }
        let rgb = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Pixels::rgb(width, height, rgb)
    }

    /// The image at 8 bits, for encoders that hold no more.
    pub fn eight_bit(&self) -> Cow<'_, Pixels<u8>> {
        S::eight_bit(self)
    }

    /// Composites onto an opaque background, for formats without alpha.
    pub fn flatten(&self, background: Rgb) -> Pixels<S> {
        if !self.has_alpha {
            return self.clone();
        }
        let bg = background.0.map(|b| S::from_u8(b).to_u32());
        let data = self
            .data
            .chunks_exact(4)
            .flat_map(|p| {
                let a = p[3].to_u32();
                [
                    over(p[0], a, bg[0]),
                    over(p[1], a, bg[1]),
                    over(p[2], a, bg[2]),
                ]
            })
            .collect();
        Pixels::rgb(self.width, self.height, data)
    }

    /// Always RGBA, for encoders that want it (ICO, AVIF).
    pub fn to_rgba(&self) -> Vec<S> {
        if self.has_alpha {
            return self.data.clone();
        }
        let opaque = S::from_u32(S::MAX);
        self.data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], opaque])
            .collect()
    }

    /// `image`'s colour type for this layout and depth.
    pub(crate) fn color_type(&self) -> image::ExtendedColorType {
        use image::ExtendedColorType as C;
        match (S::BITS, self.has_alpha) {
            (8, false) => C::Rgb8,
            (8, true) => C::Rgba8,
            (_, false) => C::Rgb16,
            (_, true) => C::Rgba16,
        }
    }
}

/// Straight RGBA to premultiplied (colour scaled by alpha), rounding to nearest.
pub(crate) fn premultiply<S: Sample>(rgba: &[S]) -> Vec<S> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = p[3].to_u32();
            [over(p[0], a, 0), over(p[1], a, 0), over(p[2], a, 0), p[3]]
        })
        .collect()
}

/// Premultiplied RGBA back to straight alpha, in place; fully transparent pixels become 0.
pub(crate) fn unpremultiply<S: Sample>(rgba: &mut [S]) {
    for p in rgba.chunks_exact_mut(4) {
        let a = u64::from(p[3].to_u32());
        for c in &mut p[..3] {
            *c = (u64::from(c.to_u32()) * u64::from(S::MAX) + a / 2)
                .checked_div(a)
                .map_or(S::default(), |v| {
                    S::from_u32(v.min(u64::from(S::MAX)) as u32)
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_blends_onto_the_background() {
        let px = Pixels {
            width: 3,
            height: 1,
            has_alpha: true,
            data: vec![0u8, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 128],
        };
        let flat = px.flatten(Rgb([255, 255, 255]));
        assert!(!flat.has_alpha);
        assert_eq!(flat.data, vec![255, 255, 255, 0, 0, 0, 255, 127, 127]);
    }

    #[test]
    fn opaque_alpha_is_dropped() {
        let img = image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            2,
            2,
            image::Rgba([1, 2, 3, 255]),
        ));
        let SourcePixels::Eight(px) = SourcePixels::from_dynamic(img, true) else {
            panic!("an 8-bit image was widened");
        };
        assert!(!px.has_alpha);
        assert_eq!(px.data.len(), 12);
    }

    #[test]
    fn sixteen_bit_images_are_kept_only_when_asked() {
        let img = image::DynamicImage::ImageRgb16(image::ImageBuffer::from_pixel(
            1,
            1,
            image::Rgb([0x1234u16, 0x8080, 0xFFFF]),
        ));
        let SourcePixels::Sixteen(kept) = SourcePixels::from_dynamic(img.clone(), true) else {
            panic!("16-bit samples were reduced");
        };
        assert_eq!(kept.data, vec![0x1234, 0x8080, 0xFFFF]);
        let SourcePixels::Eight(reduced) = SourcePixels::from_dynamic(img, false) else {
            panic!("16-bit samples were kept for an 8-bit output");
        };
        assert_eq!(reduced.data, kept.eight_bit().data);
        assert_eq!(reduced.data, vec![0x12, 0x80, 0xFF]);
    }

    #[test]
    fn flattening_at_sixteen_bits_blends_as_at_eight() {
        let px = Pixels::<u16> {
            width: 2,
            height: 1,
            has_alpha: true,
            data: vec![0, 0, 0, 0, 0xFFFF, 0, 0, 0x8000],
        };
        let flat = px.flatten(Rgb([255, 255, 255]));
        assert_eq!(
            flat.data,
            vec![0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x7FFF, 0x7FFF]
        );
    }
}
