//! Resizing: turning a [`ResizeSpec`] into exact output geometry, then resampling with
//! fast_image_resize (premultiplied alpha while filtering, so edges do not darken).

use fast_image_resize as fr;

use crate::error::{Error, Result};
use crate::options::{Filter, Fit, ResizeSpec, Rgb};
use crate::pixels::{Pixels, Sample, premultiply, unpremultiply};

/// The geometry of one output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Source rectangle to sample (left, top, width, height); the whole image unless cropping.
    pub crop: (f64, f64, f64, f64),
    /// Size the sampled rectangle is scaled to.
    pub scaled: (u32, u32),
    /// Final output size; larger than `scaled` only for `contain` padding.
    pub canvas: (u32, u32),
    /// The format's size cap shrank this output.
    pub capped: bool,
}

impl Plan {
    /// Geometry for `spec` on a `w`×`h` source. Without `enlarge`, nothing is scaled up.
    /// `max_side` is the output format's own cap (ICO: 256).
    pub fn new(w: u32, h: u32, spec: &ResizeSpec, enlarge: bool, max_side: Option<u32>) -> Plan {
        let (wf, hf) = (f64::from(w), f64::from(h));
        let limit = |s: f64| if enlarge { s } else { s.min(1.0) };
        let scale_to = |s: f64| (dim(wf * s), dim(hf * s));
        let full = (0.0, 0.0, wf, hf);
        let mut plan = match *spec {
            ResizeSpec::Original => Plan::simple(full, (w, h)),
            ResizeSpec::LongEdge { px } => {
                Plan::simple(full, scale_to(limit(f64::from(px) / wf.max(hf))))
            }
            ResizeSpec::ShortEdge { px } => {
                Plan::simple(full, scale_to(limit(f64::from(px) / wf.min(hf))))
            }
            ResizeSpec::Width { px } => Plan::simple(full, scale_to(limit(f64::from(px) / wf))),
            ResizeSpec::Height { px } => Plan::simple(full, scale_to(limit(f64::from(px) / hf))),
            ResizeSpec::Percent { percent } => {
                Plan::simple(full, scale_to(limit(f64::from(percent) / 100.0)))
            }
            ResizeSpec::Box { width, height, fit } => {
                let (bw, bh) = (f64::from(width), f64::from(height));
                match fit {
                    Fit::Inside => Plan::simple(full, scale_to(limit((bw / wf).min(bh / hf)))),
                    Fit::Contain => {
                        let scaled = scale_to(limit((bw / wf).min(bh / hf)));
                        Plan {
                            crop: full,
                            scaled,
                            canvas: (width, height),
                            capped: false,
                        }
                    }
                    Fit::Cover => {
                        let s = limit((bw / wf).max(bh / hf));
                        // Without enlargement a box bigger than the source shrinks to it.
                        let out = (width.min(dim(wf * s)), height.min(dim(hf * s)));
                        let (cw, ch) = (f64::from(out.0) / s, f64::from(out.1) / s);
                        Plan::simple(((wf - cw) / 2.0, (hf - ch) / 2.0, cw, ch), out)
                    }
                    Fit::Fill if enlarge => Plan::simple(full, (width, height)),
                    Fit::Fill => Plan::simple(full, (width.min(w), height.min(h))),
                }
            }
        };
        if let Some(cap) = max_side {
            let biggest = plan.canvas.0.max(plan.canvas.1);
            if biggest > cap {
                let f = f64::from(cap) / f64::from(biggest);
                let shrink = |(a, b): (u32, u32)| (dim(f64::from(a) * f), dim(f64::from(b) * f));
                plan.scaled = shrink(plan.scaled);
                plan.canvas = shrink(plan.canvas);
                plan.capped = true;
            }
        }
        plan
    }

    fn simple(crop: (f64, f64, f64, f64), size: (u32, u32)) -> Plan {
        Plan {
            crop,
            scaled: size,
            canvas: size,
            capped: false,
        }
    }

    /// True when the output is the source, untouched.
    pub fn is_identity(&self, w: u32, h: u32) -> bool {
        self.crop == (0.0, 0.0, f64::from(w), f64::from(h))
            && self.scaled == (w, h)
            && self.canvas == (w, h)
    }
}

fn dim(v: f64) -> u32 {
    (v.round() as u32).max(1)
}

fn algorithm(filter: Filter) -> fr::ResizeAlg {
    use fr::FilterType as F;
    match filter {
        Filter::Nearest => fr::ResizeAlg::Nearest,
        Filter::Lanczos3 => fr::ResizeAlg::Convolution(F::Lanczos3),
        Filter::Mitchell => fr::ResizeAlg::Convolution(F::Mitchell),
        Filter::CatmullRom => fr::ResizeAlg::Convolution(F::CatmullRom),
        Filter::Bilinear => fr::ResizeAlg::Convolution(F::Bilinear),
        Filter::Box => fr::ResizeAlg::Convolution(F::Box),
    }
}

/// Produces the output pixels for `plan`. Padding (`contain`) uses the background colour.
///
/// Alpha is premultiplied while filtering so transparent pixels do not bleed their colour
/// into edges. We premultiply and un-premultiply here, in scalar code, instead of letting
/// fast_image_resize do it: its SIMD128 `divide_alpha` for U8x4 is miscompiled by the
/// Rust 1.95-1.97 nightlies on wasm (rust-lang/rust#157456), turning bright pixels at
/// semi-transparent edges black. Doing it ourselves on every target also keeps native and
/// wasm outputs byte-identical.
pub fn apply<S: Sample>(
    src: &Pixels<S>,
    plan: &Plan,
    filter: Filter,
    background: Rgb,
) -> Result<Pixels<S>> {
    let pixel_type = match (S::BITS, src.has_alpha) {
        (8, false) => fr::PixelType::U8x3,
        (8, true) => fr::PixelType::U8x4,
        (_, false) => fr::PixelType::U16x3,
        (_, true) => fr::PixelType::U16x4,
    };
    let internal = |e: &dyn std::fmt::Display| Error::internal(format!("resize failed: {e}"));
    let premultiplied;
    let data = if src.has_alpha {
        premultiplied = premultiply(&src.data);
        &premultiplied
    } else {
        &src.data
    };
    let source = fr::images::ImageRef::new(
        src.width,
        src.height,
        bytemuck::cast_slice(data),
        pixel_type,
    )
    .map_err(|e| internal(&e))?;
    let (sw, sh) = plan.scaled;
    let mut data = vec![S::default(); sw as usize * sh as usize * src.channels()];
    let (left, top, cw, ch) = plan.crop;
    let options = fr::ResizeOptions::new()
        .resize_alg(algorithm(filter))
        .crop(left, top, cw, ch)
        .use_alpha(false);
    {
        // The output is resized straight into `data`, so 16-bit samples need no copy.
        let bytes = bytemuck::cast_slice_mut(&mut data);
        let mut dst = fr::images::Image::from_slice_u8(sw, sh, bytes, pixel_type)
            .map_err(|e| internal(&e))?;
        fr::Resizer::new()
            .resize(&source, &mut dst, &options)
            .map_err(|e| internal(&e))?;
    }
    if src.has_alpha {
        unpremultiply(&mut data);
    }
    let scaled = Pixels {
        width: sw,
        height: sh,
        has_alpha: src.has_alpha,
        data,
    };
    Ok(pad(scaled, plan.canvas, background))
}

/// Centres `px` on a canvas of the background colour.
fn pad<S: Sample>(px: Pixels<S>, (cw, ch): (u32, u32), background: Rgb) -> Pixels<S> {
    if (px.width, px.height) == (cw, ch) {
        return px;
    }
    let n = px.channels();
    let fill: Vec<S> = background
        .0
        .map(S::from_u8)
        .into_iter()
        .chain(std::iter::once(S::from_u32(S::MAX)))
        .take(n)
        .collect();
    let mut data: Vec<S> = fill
        .iter()
        .copied()
        .cycle()
        .take(cw as usize * ch as usize * n)
        .collect();
    let (x0, y0) = ((cw - px.width) as usize / 2, (ch - px.height) as usize / 2);
    let row = px.width as usize * n;
    for (y, src_row) in px.data.chunks_exact(row).enumerate() {
        let at = ((y0 + y) * cw as usize + x0) * n;
        data[at..at + row].copy_from_slice(src_row);
    }
    Pixels {
        width: cw,
        height: ch,
        has_alpha: px.has_alpha,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(w: u32, h: u32, spec: &str, enlarge: bool) -> Plan {
        Plan::new(w, h, &spec.parse().unwrap(), enlarge, None)
    }

    #[test]
    fn long_and_short_edges_keep_the_aspect_ratio() {
        assert_eq!(plan(4000, 3000, "2048", false).canvas, (2048, 1536));
        assert_eq!(plan(3000, 4000, "2048", false).canvas, (1536, 2048));
        assert_eq!(plan(4000, 3000, "s720", false).canvas, (960, 720));
        assert_eq!(plan(4000, 3000, "w720", false).canvas, (720, 540));
        assert_eq!(plan(4000, 3000, "h300", false).canvas, (400, 300));
        assert_eq!(plan(4000, 3000, "50%", false).canvas, (2000, 1500));
    }

    #[test]
    fn nothing_is_enlarged_unless_asked() {
        assert_eq!(plan(800, 600, "2048", false).canvas, (800, 600));
        assert_eq!(plan(800, 600, "2048", true).canvas, (2048, 1536));
        assert_eq!(plan(800, 600, "200%", false).canvas, (800, 600));
    }

    #[test]
    fn boxes_fit_as_asked() {
        assert_eq!(plan(4000, 3000, "1000x1000", false).canvas, (1000, 750));
        let contain = plan(4000, 3000, "1000x1000:contain", false);
        assert_eq!(
            (contain.scaled, contain.canvas),
            ((1000, 750), (1000, 1000))
        );
        let cover = plan(4000, 3000, "1000x1000:cover", false);
        assert_eq!(cover.canvas, (1000, 1000));
        assert_eq!(cover.crop, (500.0, 0.0, 3000.0, 3000.0));
        assert_eq!(plan(4000, 3000, "100x100:fill", false).canvas, (100, 100));
    }

    #[test]
    fn format_cap_shrinks_the_output() {
        let p = Plan::new(1000, 500, &ResizeSpec::Original, false, Some(256));
        assert!(p.capped);
        assert_eq!(p.canvas, (256, 128));
    }

    #[test]
    fn transparent_pixels_do_not_bleed_into_edges() {
        // Opaque white next to fully transparent black: the resized edge stays white.
        let mut data: Vec<u8> = Vec::new();
        for x in 0..8 {
            data.extend_from_slice(if x < 4 {
                &[255, 255, 255, 255]
            } else {
                &[0, 0, 0, 0]
            });
        }
        let px = Pixels {
            width: 8,
            height: 1,
            has_alpha: true,
            data,
        };
        let plan = Plan::new(8, 1, &ResizeSpec::Width { px: 4 }, false, None);
        let out = apply(&px, &plan, Filter::Lanczos3, Rgb::WHITE).unwrap();
        for p in out.data.chunks_exact(4).filter(|p| p[3] > 0) {
            assert!(
                p[0] >= 250 && p[1] >= 250 && p[2] >= 250,
                "edge darkened: {p:?}"
            );
        }
    }

    #[test]
    fn contain_pads_with_the_background() {
        let px = Pixels {
            width: 1,
            height: 1,
            has_alpha: false,
            data: vec![0u8, 0, 0],
        };
        let out = pad(px, (3, 1), Rgb([9, 9, 9]));
        assert_eq!(out.data, vec![9, 9, 9, 0, 0, 0, 9, 9, 9]);
    }
}
