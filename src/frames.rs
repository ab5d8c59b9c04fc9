//! Counts the frames of animated containers (GIF, APNG, WebP) by walking their structure,
//! without decoding pixels, so a result can say how many frames were dropped.

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
                let local = *b.get(pos + 9)?;
                pos += 10;
                if local & 0x80 != 0 {
                    pos += 3 << ((local & 7) + 1);
                }
                pos = skip_sub_blocks(b, pos + 1)?; // +1: LZW minimum code size
            }
            Some(0x21) => pos = skip_sub_blocks(b, pos + 2)?,
            _ => return Some(frames),
        }
    }
}

fn skip_sub_blocks(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = usize::from(*b.get(pos)?);
        pos += 1;
        if len == 0 {
            return Some(pos);
        }
        pos += len;
    }
}

/// APNG declares its frame count in the `acTL` chunk, before the first `IDAT`.
fn apng_frames(b: &[u8]) -> Option<u32> {
    let mut pos = 8;
    while let Some(header) = b.get(pos..pos + 8) {
        let len = u32::from_be_bytes(header[0..4].try_into().ok()?) as usize;
        match &header[4..8] {
            b"acTL" => return Some(u32::from_be_bytes(b.get(pos + 8..pos + 12)?.try_into().ok()?)),
            b"IDAT" | b"IEND" => return Some(1),
            _ => pos = pos.checked_add(12)?.checked_add(len)?,
        }
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
