//! The one in-memory image the pipeline works on: 8-bit sRGB, RGB or RGBA, rows packed.

use crate::options::Rgb;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    /// 4 channels (RGBA, straight alpha) when any pixel is not opaque, else 3 (RGB).
    pub has_alpha: bool,
    pub data: Vec<u8>,
}

impl Pixels {
    pub fn channels(&self) -> usize {
        if self.has_alpha { 4 } else { 3 }
    }

    /// Converts any decoded image to 8-bit RGB or RGBA. An alpha channel that is opaque
    /// everywhere is dropped: it costs a third more memory and time and changes nothing.
    pub(crate) fn from_dynamic(image: image::DynamicImage) -> Pixels {
        let (width, height) = (image.width(), image.height());
        if image.color().has_alpha() {
            let rgba = image.into_rgba8().into_raw();
            if rgba.chunks_exact(4).any(|p| p[3] != 255) {
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
            return Pixels {
                width,
                height,
                has_alpha: false,
                data: rgb,
            };
        }
        Pixels {
            width,
            height,
            has_alpha: false,
            data: image.into_rgb8().into_raw(),
        }
    }

    /// Composites onto an opaque background, for formats without alpha.
    pub fn flatten(&self, background: Rgb) -> Pixels {
        if !self.has_alpha {
            return self.clone();
        }
        let bg = background.0;
        let data = self
            .data
            .chunks_exact(4)
            .flat_map(|p| {
                let a = u32::from(p[3]);
                let mix = |c: u8, b: u8| {
                    ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8
                };
                [mix(p[0], bg[0]), mix(p[1], bg[1]), mix(p[2], bg[2])]
            })
            .collect();
        Pixels {
            width: self.width,
            height: self.height,
            has_alpha: false,
            data,
        }
    }

    /// Always RGBA, for encoders that want it (ICO).
    pub fn to_rgba(&self) -> Vec<u8> {
        if self.has_alpha {
            return self.data.clone();
        }
        self.data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    }

    /// `image`'s colour type for this layout.
    pub(crate) fn color_type(&self) -> image::ExtendedColorType {
        if self.has_alpha {
            image::ExtendedColorType::Rgba8
        } else {
            image::ExtendedColorType::Rgb8
        }
    }
}

/// Straight RGBA to premultiplied (colour scaled by alpha), rounding to nearest.
pub(crate) fn premultiply(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let mul = |c: u8| ((u32::from(c) * a + 127) / 255) as u8;
            [mul(p[0]), mul(p[1]), mul(p[2]), p[3]]
        })
        .collect()
}

/// Premultiplied RGBA back to straight alpha, in place; fully transparent pixels become 0.
pub(crate) fn unpremultiply(rgba: &mut [u8]) {
    for p in rgba.chunks_exact_mut(4) {
        let a = u32::from(p[3]);
        for c in &mut p[..3] {
            *c = (u32::from(*c) * 255 + a / 2)
                .checked_div(a)
                .map_or(0, |v| v.min(255) as u8);
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
            data: vec![0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 128],
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
        let px = Pixels::from_dynamic(img);
        assert!(!px.has_alpha);
        assert_eq!(px.data.len(), 12);
    }
}
