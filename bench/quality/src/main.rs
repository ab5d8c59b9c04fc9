//! Reads `SOURCE<TAB>OUTPUT` lines on stdin and prints one JSON line per pair:
//! `{"output": ..., "score": ..., "oriented": ..., "width": ..., "height": ...}`.
//!
//! The reference is SOURCE decoded by the `image` crate, turned upright from its EXIF
//! orientation, and resized with Lanczos3 (image's `resize_exact`, in sRGB as most tools do)
//! to OUTPUT's exact dimensions; SSIMULACRA2 compares OUTPUT against it. When SOURCE already
//! has OUTPUT's dimensions (the encoder sweep), it is used as is. A tool that ignores the
//! EXIF orientation is scored against the unturned source too, keeping the better score;
//! `oriented: false` then says the tool did not turn the photo.
use image::{imageops::FilterType, DynamicImage, ImageDecoder, ImageReader};
use rayon::prelude::*;
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};
use std::collections::HashMap;
use std::io::BufRead;

fn load(path: &str) -> Result<(DynamicImage, image::metadata::Orientation), String> {
    let reader = ImageReader::open(path).map_err(|e| e.to_string())?.with_guessed_format().map_err(|e| e.to_string())?;
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    Ok((DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?, orientation))
}

fn rgb(img: &DynamicImage) -> Rgb {
    let rgb = img.to_rgb8();
    let data = rgb.pixels().map(|p| [p[0] as f32 / 255.0, p[1] as f32 / 255.0, p[2] as f32 / 255.0]).collect();
    Rgb::new(data, rgb.width() as usize, rgb.height() as usize, TransferCharacteristic::SRGB, ColorPrimaries::BT709).unwrap()
}

/// `reference` resized to `w` x `h`, or None if its shape differs from that by more than rounding.
fn resized(reference: &DynamicImage, w: u32, h: u32) -> Option<Rgb> {
    if reference.width() == w && reference.height() == h {
        return Some(rgb(reference));
    }
    let (rw, rh) = (reference.width() as f64, reference.height() as f64);
    if ((rw / rh) - (w as f64 / h as f64)).abs() > 0.02 * (rw / rh) + 2.0 / h.min(w) as f64 {
        return None;
    }
    Some(rgb(&reference.resize_exact(w, h, FilterType::Lanczos3)))
}

/// Scores against the reference at the output's size, resizing each (source, size, turn) once.
fn score(cache: &mut HashMap<(u32, u32, bool), Option<Rgb>>, reference: &DynamicImage, turned: bool, output: &Rgb, w: u32, h: u32) -> Option<f64> {
    let reference = cache.entry((w, h, turned)).or_insert_with(|| resized(reference, w, h)).clone()?;
    compute_frame_ssimulacra2(reference, output.clone()).ok()
}

/// One source, decoded once for all the outputs scored against it.
struct Source {
    raw: DynamicImage,
    upright: DynamicImage,
    turned: bool,
}

fn source(path: &str) -> Result<Source, String> {
    let (raw, orientation) = load(path)?;
    let mut upright = raw.clone();
    upright.apply_orientation(orientation);
    Ok(Source { raw, upright, turned: orientation != image::metadata::Orientation::NoTransforms })
}

fn pair(cache: &mut HashMap<(u32, u32, bool), Option<Rgb>>, src: &Source, output: &str) -> Result<(f64, bool, u32, u32), String> {
    let (out, _) = load(output)?;
    let (w, h) = (out.width(), out.height());
    let out = rgb(&out);
    let turned = score(cache, &src.upright, true, &out, w, h);
    let unturned = if src.turned { score(cache, &src.raw, false, &out, w, h) } else { None };
    match (turned, unturned) {
        (Some(a), Some(b)) if b > a => Ok((b, false, w, h)),
        (Some(a), _) => Ok((a, true, w, h)),
        (None, Some(b)) => Ok((b, false, w, h)),
        (None, None) => Err(format!("{w}x{h} fits neither the upright nor the unturned source")),
    }
}

fn main() {
    let pairs: Vec<(String, String)> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    let mut by_source: Vec<(String, Vec<String>)> = Vec::new();
    for (s, o) in pairs {
        match by_source.iter_mut().find(|(k, _)| *k == s) {
            Some((_, outputs)) => outputs.push(o),
            None => by_source.push((s, vec![o])),
        }
    }
    let lines: Vec<String> = by_source
        .par_iter()
        .flat_map(|(path, outputs)| {
            let src = source(path);
            let mut cache = HashMap::new();
            outputs
                .iter()
                .map(|output| {
                    let name = format!("{output:?}");
                    match src.as_ref().map_err(|e| e.clone()).and_then(|src| pair(&mut cache, src, output)) {
                        Ok((s, oriented, w, h)) => {
                            format!("{{\"output\": {name}, \"score\": {s:.3}, \"oriented\": {oriented}, \"width\": {w}, \"height\": {h}}}")
                        }
                        Err(e) => format!("{{\"output\": {name}, \"error\": {e:?}}}"),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for line in lines {
        println!("{line}");
    }
}
