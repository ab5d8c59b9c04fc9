//! Walks container structure without decoding pixels: frame counts of animated files (so a
//! result can say how many frames were dropped), the largest size a file declares anywhere
//! (so bombs hidden in a GIF frame or a BMP header are refused before a decoder runs), and
//! the inflated size of PNG text chunks.

use crate::format::Format;

/// Number of frames in the file, 1 for still images and for anything unreadable.
pub fn frame_count(format: Format, bytes: &[u8]) -> u32 {
    let counted = match format {
        Format::Gif => gif_frames(bytes),
        Format::Png => apng_frames(bytes),
        Format::WebP => webp_frames(bytes),
        _ => None,
    };
    counted.unwrap_or(1).max(1)
}

fn gif_frames(b: &[u8]) -> Option<u32> {
    Some(gif_walk(b)?.0)
}

/// Frame count and the largest extent (screen or any frame's left+width, top+height).
fn gif_walk(b: &[u8]) -> Option<(u32, (u64, u64))> {
    let le = |at: usize| -> Option<u64> {
        Some(u64::from(u16::from_le_bytes([
            *b.get(at)?,
            *b.get(at + 1)?,
        ])))
    };
    let mut extent = (le(6)?, le(8)?);
    let flags = *b.get(10)?;
    let mut pos = 13;
    if flags & 0x80 != 0 {
        pos += 3 << ((flags & 7) + 1);
    }
    let mut frames = 0;
    loop {
        match b.get(pos) {
            Some(0x2C) => {
                frames += 1;
                if let (Some(x), Some(y), Some(w), Some(h)) =
                    (le(pos + 1), le(pos + 3), le(pos + 5), le(pos + 7))
                {
                    extent = (extent.0.max(x + w), extent.1.max(y + h));
                }
                let local = *b.get(pos + 9)?;
                pos += 10;
                if local & 0x80 != 0 {
                    pos += 3 << ((local & 7) + 1);
                }
                pos = skip_sub_blocks(b, pos + 1)?; // +1: LZW minimum code size
            }
            Some(0x21) => pos = skip_sub_blocks(b, pos + 2)?,
            _ => return Some((frames, extent)),
        }
    }
}

/// Walks sub-blocks; a file truncated inside them ends the walk where the data ends.
fn skip_sub_blocks(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let Some(&len) = b.get(pos) else {
            return Some(pos);
        };
        pos += 1;
        if len == 0 {
            return Some(pos);
        }
        pos += usize::from(len);
    }
}

/// The largest width and height the file declares in places image-rs checks late or not at
/// all: every GIF frame's extent, and BMP and TIFF headers (whose decoders reject huge sizes
/// only as format errors). None when there is nothing extra to check. HEIF's (HEIC, AVIF) is
/// read by `codecs::declared_size`, through the HEIF decoder's own container parser.
pub fn declared_size(format: Format, b: &[u8]) -> Option<(u64, u64)> {
    match format {
        Format::Gif => gif_walk(b).map(|(_, extent)| extent),
        Format::Bmp => {
            let header_size = u32::from_le_bytes(b.get(14..18)?.try_into().ok()?);
            if header_size == 12 {
                let w = u16::from_le_bytes(b.get(18..20)?.try_into().ok()?);
                let h = u16::from_le_bytes(b.get(20..22)?.try_into().ok()?);
                return Some((u64::from(w), u64::from(h)));
            }
            let w = i32::from_le_bytes(b.get(18..22)?.try_into().ok()?);
            let h = i32::from_le_bytes(b.get(22..26)?.try_into().ok()?);
            Some((u64::from(w.unsigned_abs()), u64::from(h.unsigned_abs())))
        }
        Format::Tiff => {
            let w = crate::metadata::tiff_ifd0_value(b, 256)?;
            let h = crate::metadata::tiff_ifd0_value(b, 257)?;
            Some((u64::from(w), u64::from(h)))
        }
        _ => None,
    }
}

/// True when a JPEG's compressed data stops before its end-of-image marker. zune-jpeg fills
/// the missing rows with grey and reports success; a user must be told their file is cut.
/// Walks the marker segments to the first scan, then looks for EOI (`FF D9`) after it:
/// entropy-coded data escapes every `FF`, so only a real marker can match.
pub fn jpeg_is_truncated(b: &[u8]) -> bool {
    let mut pos = 2;
    loop {
        // Fill bytes: any number of FF before a marker code.
        while b.get(pos) == Some(&0xFF) && b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(pos), b.get(pos + 1)) else {
            return false; // malformed header: the decoder gives the real error
        };
        match marker {
            0xDA => return !b[pos..].windows(2).any(|w| w == [0xFF, 0xD9]),
            0xD0..=0xD7 | 0x01 => pos += 2,
            _ => {
                let Some(len) = b
                    .get(pos + 2..pos + 4)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                else {
                    return true;
                };
                pos += 2 + len;
            }
        }
    }
}

/// Inflated sizes of a PNG's compressed text chunks (zTXt, compressed iTXt), each counted
/// up to `cap` + 1 bytes so a bomb costs at most that much work.
pub fn png_text_sizes(b: &[u8], cap: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut pos = 8;
    while let Some(header) = b.get(pos..pos + 8) {
        let Ok(len) = <[u8; 4]>::try_from(&header[0..4]).map(|l| u32::from_be_bytes(l) as usize)
        else {
            break;
        };
        let Some(data) = b.get(pos + 8..(pos + 8).saturating_add(len)) else {
            break;
        };
        let compressed = match &header[4..8] {
            // keyword \0 method data
            b"zTXt" => data
                .iter()
                .position(|&c| c == 0)
                .and_then(|k| data.get(k + 2..)),
            // keyword \0 flag method language \0 translated \0 data
            b"iTXt" => data.iter().position(|&c| c == 0).and_then(|k| {
                if data.get(k + 1) != Some(&1) {
                    return None;
                }
                let rest = data.get(k + 3..)?;
                let lang = rest.iter().position(|&c| c == 0)?;
                let rest = rest.get(lang + 1..)?;
                let translated = rest.iter().position(|&c| c == 0)?;
                rest.get(translated + 1..)
            }),
            b"IEND" => break,
            _ => None,
        };
        if let Some(compressed) = compressed {
            sizes.push(inflated_size(compressed, cap));
        }
        pos = pos.saturating_add(12).saturating_add(len);
    }
    sizes
}

fn inflated_size(zlib: &[u8], cap: usize) -> usize {
    let mut out = vec![0u8; cap.saturating_add(1)];
    let mut inflater = fdeflate::Decompressor::new();
    let (mut consumed, mut written) = (0, 0);
    while written < out.len() && !inflater.is_done() {
        match inflater.read(&zlib[consumed..], &mut out, written, true) {
            Ok((0, 0)) | Err(_) => break,
            Ok((c, w)) => {
                consumed += c;
                written += w;
            }
        }
    }
    written
}

/// APNG declares its frame count in the `acTL` chunk, before the first `IDAT`.
fn apng_frames(b: &[u8]) -> Option<u32> {
    let mut pos = 8;
    while let Some(header) = b.get(pos..pos + 8) {
        let len = u32::from_be_bytes(header[0..4].try_into().ok()?) as usize;
        match &header[4..8] {
            b"acTL" => {
                return Some(u32::from_be_bytes(
                    b.get(pos + 8..pos + 12)?.try_into().ok()?,
                ));
            }
            b"IDAT" | b"IEND" => return Some(1),
            _ => pos = pos.checked_add(12)?.checked_add(len)?,
        }
    }
    None
}

/// The first WebP chunk that claims more bytes than the file has left, as (its name, its
/// declared size).
pub fn webp_oversized_chunk(b: &[u8]) -> Option<(String, u64)> {
    let mut pos = 12;
    while let Some(header) = b.get(pos..pos + 8) {
        let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        let end = pos + 8 + len;
        if end > b.len() {
            return Some((
                String::from_utf8_lossy(&header[0..4]).into_owned(),
                len as u64,
            ));
        }
        pos = end + (len & 1);
    }
    None
}

/// Animated WebP is a VP8X file with one `ANMF` chunk per frame.
fn webp_frames(b: &[u8]) -> Option<u32> {
    let mut pos = 12;
    let mut frames = 0;
    while let Some(header) = b.get(pos..pos + 8) {
        let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        if &header[0..4] == b"ANMF" {
            frames += 1;
        }
        pos = pos.checked_add(8)?.checked_add(len + (len & 1))?;
    }
    Some(frames.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webp_chunk_that_claims_more_than_the_file_is_found() {
        // From scripts/fuzz: 1.4 KB whose EXIF chunk claims 4 GiB.
        let bomb = include_bytes!("../tests/fixtures/webp-exif-chunk-claims-4-gib.webp");
        let (chunk, size) = webp_oversized_chunk(bomb).expect("the oversized chunk");
        assert_eq!(chunk, "EXIF");
        assert!(size > 4_000_000_000);
        let mut fine = b"RIFF\x14\0\0\0WEBPEXIF\x02\0\0\0MMXMP \0\0\0\0".to_vec();
        assert_eq!(webp_oversized_chunk(&fine), None);
        fine[16] = 0xff; // the EXIF chunk now claims more than the file holds
        assert_eq!(webp_oversized_chunk(&fine), Some(("EXIF".into(), 255)));
    }
}
