//! Colour management: pixels tagged with an embedded ICC profile (Display P3, Adobe RGB, a
//! press CMYK profile, a grey gamma) converted to sRGB through moxcms.
//!
//! Perceptual intent, as lcms and the reference decoder default to. For the matrix-shaper
//! profiles of cameras and phones it equals relative colorimetric; press (CMYK) profiles
//! bring their own perceptual gamut mapping, which relative colorimetric would skip (the
//! corpus's SWOP file lands 5 levels off the reference that way).

use std::sync::OnceLock;

use std::sync::Arc;

use moxcms::{
    CmsError, ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformExecutor,
    TransformOptions,
};

use image::{DynamicImage, ImageBuffer};

/// What an ICC profile describes, as far as the pipeline cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProfileSpace {
    Rgb,
    Gray,
    Cmyk,
    /// Lab, multi-ink, or a profile that does not parse: it cannot describe our RGB pixels.
    Other,
}

/// The profile's colour space. A profile moxcms cannot parse (one malformed tag is enough)
/// is classed by its header's colour-space field, so `keep` still carries an RGB profile
/// that other software reads.
pub(crate) fn profile_space(icc: &[u8]) -> ProfileSpace {
    match ColorProfile::new_from_slice(icc).map(|p| p.color_space) {
        Ok(DataColorSpace::Rgb) => ProfileSpace::Rgb,
        Ok(DataColorSpace::Gray) => ProfileSpace::Gray,
        Ok(DataColorSpace::Cmyk) => ProfileSpace::Cmyk,
        Ok(_) => ProfileSpace::Other,
        Err(_) => match icc.get(16..20) {
            Some(b"RGB ") => ProfileSpace::Rgb,
            Some(b"GRAY") => ProfileSpace::Gray,
            Some(b"CMYK") => ProfileSpace::Cmyk,
            _ => ProfileSpace::Other,
        },
    }
}

fn options() -> TransformOptions {
    TransformOptions {
        rendering_intent: RenderingIntent::Perceptual,
        ..TransformOptions::default()
    }
}

fn parse(icc: &[u8]) -> Result<ColorProfile, String> {
    ColorProfile::new_from_slice(icc).map_err(|e| format!("unreadable ICC profile ({e:?})"))
}

/// Converts a decoded image described by `icc` (an RGB or grey profile) to sRGB, in place,
/// at its own depth (8 or 16 bits; float images are taken to 16 bits first). Alpha is
/// untouched. Grey images become RGB, since sRGB is an RGB space.
pub(crate) fn to_srgb(image: &mut DynamicImage, icc: &[u8]) -> Result<(), String> {
    let source = parse(icc)?;
    let srgb = ColorProfile::new_srgb();
    let (w, h) = (image.width(), image.height());
    let alpha = image.color().has_alpha();
    let wide = image.color().bytes_per_pixel() / image.color().channel_count() > 1;
    let grey_in = source.color_space == DataColorSpace::Gray;
    if grey_in && image.color().has_color() {
        return Err("a grey profile cannot describe colour pixels".into());
    }
    if !matches!(
        source.color_space,
        DataColorSpace::Rgb | DataColorSpace::Gray
    ) {
        return Err(format!(
            "a {:?} profile cannot describe RGB pixels",
            source.color_space
        ));
    }
    // moxcms converts grey to RGB without alpha; alpha is carried across separately.
    let (src_layout, dst_layout) = match (grey_in, alpha) {
        (true, _) => (Layout::Gray, Layout::Rgb),
        (false, true) => (Layout::Rgba, Layout::Rgba),
        (false, false) => (Layout::Rgb, Layout::Rgb),
    };
    let rgb_alpha = !grey_in && alpha;
    if wide {
        let input: Vec<u16> = match (grey_in, rgb_alpha) {
            (true, _) => image.to_luma16().into_raw(),
            (false, true) => image.to_rgba16().into_raw(),
            (false, false) => image.to_rgb16().into_raw(),
        };
        let transform = source.create_transform_16bit(src_layout, &srgb, dst_layout, options());
        let out = run(transform, &input, src_layout, dst_layout)?;
        *image = match (rgb_alpha, grey_in && alpha) {
            (true, _) => DynamicImage::ImageRgba16(buffer(w, h, out)),
            (false, true) => with_alpha16(buffer(w, h, out), image),
            (false, false) => DynamicImage::ImageRgb16(buffer(w, h, out)),
        };
    } else {
        let input: Vec<u8> = match (grey_in, rgb_alpha) {
            (true, _) => image.to_luma8().into_raw(),
            (false, true) => image.to_rgba8().into_raw(),
            (false, false) => image.to_rgb8().into_raw(),
        };
        let transform = source.create_transform_8bit(src_layout, &srgb, dst_layout, options());
        let out = run(transform, &input, src_layout, dst_layout)?;
        *image = match (rgb_alpha, grey_in && alpha) {
            (true, _) => DynamicImage::ImageRgba8(buffer(w, h, out)),
            (false, true) => with_alpha8(buffer(w, h, out), image),
            (false, false) => DynamicImage::ImageRgb8(buffer(w, h, out)),
        };
    }
    Ok(())
}

/// Runs a transform moxcms built over a whole image's samples.
fn run<V: Copy + Default>(
    transform: Result<Arc<dyn TransformExecutor<V> + Send + Sync>, CmsError>,
    input: &[V],
    from: Layout,
    to: Layout,
) -> Result<Vec<V>, String> {
    let failed = |e: CmsError| format!("colour conversion failed ({e:?})");
    let transform = transform.map_err(failed)?;
    let mut out = vec![V::default(); input.len() / from.channels() * to.channels()];
    transform.transform(input, &mut out).map_err(failed)?;
    Ok(out)
}

fn buffer<P: image::Pixel>(
    w: u32,
    h: u32,
    data: Vec<P::Subpixel>,
) -> ImageBuffer<P, Vec<P::Subpixel>> {
    ImageBuffer::from_raw(w, h, data).expect("the transform returns one pixel per input pixel")
}

/// RGB from a grey transform, with the grey source's alpha put back.
fn with_alpha8(rgb: image::RgbImage, grey: &DynamicImage) -> DynamicImage {
    let alpha = grey.to_luma_alpha8();
    let mut rgba = DynamicImage::ImageRgb8(rgb).into_rgba8();
    for (p, a) in rgba.pixels_mut().zip(alpha.pixels()) {
        p[3] = a[1];
    }
    DynamicImage::ImageRgba8(rgba)
}

fn with_alpha16(rgb: ImageBuffer<image::Rgb<u16>, Vec<u16>>, grey: &DynamicImage) -> DynamicImage {
    let alpha = grey.to_luma_alpha16();
    let mut rgba = DynamicImage::ImageRgb16(rgb).into_rgba16();
    for (p, a) in rgba.pixels_mut().zip(alpha.pixels()) {
        p[3] = a[1];
    }
    DynamicImage::ImageRgba16(rgba)
}

/// Converts CMYK ink amounts (0 = no ink, 4 bytes a pixel) through their profile to 8-bit
/// sRGB RGB.
pub(crate) fn cmyk_to_srgb(cmyk: &[u8], icc: &[u8]) -> Result<Vec<u8>, String> {
    let source = parse(icc)?;
    // moxcms reads 8-bit CMYK with the RGBA layout (four samples a pixel).
    let transform = source.create_transform_8bit(
        Layout::Rgba,
        &ColorProfile::new_srgb(),
        Layout::Rgb,
        options(),
    );
    run(transform, cmyk, Layout::Rgba, Layout::Rgb)
}

/// An sRGB ICC profile, to tag outputs whose pixels were converted to sRGB.
pub(crate) fn srgb_profile() -> &'static [u8] {
    static PROFILE: OnceLock<Vec<u8>> = OnceLock::new();
    PROFILE.get_or_init(|| {
        let mut icc = ColorProfile::new_srgb()
            .encode()
            .expect("moxcms encodes its own sRGB profile");
        // moxcms stamps the encoding time into the header (bytes 24-35; the profile ID that
        // would cover them is left zero). A fixed date keeps outputs reproducible, and the
        // same natively and in the browser.
        const CREATED: [u8; 12] = [0x07, 0xEA, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0];
        icc[24..36].copy_from_slice(&CREATED);
        icc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_srgb_tag_is_small_and_reads_back_as_rgb() {
        let icc = srgb_profile();
        assert!(icc.len() < 1024, "sRGB tag is {} bytes", icc.len());
        assert_eq!(profile_space(icc), ProfileSpace::Rgb);
        assert_eq!(
            &icc[84..100],
            &[0; 16],
            "a profile ID would cover the fixed date"
        );
    }

    #[test]
    fn srgb_to_srgb_leaves_pixels_alone() {
        let data: Vec<u8> = (0..=255).flat_map(|v| [v, 255 - v, v / 2]).collect();
        let mut image =
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(256, 1, data.clone()).unwrap());
        to_srgb(&mut image, srgb_profile()).unwrap();
        let worst = image
            .as_bytes()
            .iter()
            .zip(&data)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 1, "sRGB to sRGB moved a sample by {worst}");
    }
}
