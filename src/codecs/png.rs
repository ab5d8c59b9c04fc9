//! PNG output through the png crate directly: image-rs's wrapper cannot write XMP.

use std::io::Write;

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::options::{EncodeOptions, PngCompression};
use crate::pixels::{Pixels, Sample};

pub fn encode<S: Sample>(
    pixels: &Pixels<S>,
    options: &EncodeOptions,
    metadata: &Metadata,
) -> Result<Vec<u8>> {
    let fail = |e: png::EncodingError| Error::encode("PNG encoder failed").with_source(e);
    let mut out = Vec::new();
    let mut info = png::Info::with_size(pixels.width, pixels.height);
    info.color_type = if pixels.has_alpha {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    };
    info.bit_depth = if S::BITS == 16 {
        png::BitDepth::Sixteen
    } else {
        png::BitDepth::Eight
    };
    info.icc_profile = metadata.icc.as_deref().map(Into::into);
    info.exif_metadata = metadata.exif.as_deref().map(Into::into);
    let mut encoder = png::Encoder::with_info(&mut out, info).map_err(fail)?;
    encoder.set_compression(match options.png_compression {
        PngCompression::Fastest => png::Compression::Fastest,
        PngCompression::Fast => png::Compression::Fast,
        PngCompression::Balanced => png::Compression::Balanced,
        PngCompression::Max => png::Compression::High,
    });
    if let Some(xmp) = &metadata.xmp {
        let text = String::from_utf8_lossy(xmp).into_owned();
        encoder
            .add_itxt_chunk("XML:com.adobe.xmp".into(), text)
            .map_err(fail)?;
    }
    let mut writer = encoder.write_header().map_err(fail)?;
    if S::BITS == 8 {
        writer
            .write_image_data(bytemuck::cast_slice(&pixels.data))
            .map_err(fail)?;
    } else {
        // PNG stores 16-bit samples big-endian: swap a row at a time, not a copy of the image.
        let row = pixels.width as usize * pixels.channels();
        // IDAT chunks of 1 MiB, as the whole-image writer makes, not the stream's 4 KiB.
        let mut stream = writer.stream_writer_with_size(1 << 20).map_err(fail)?;
        for samples in pixels.data.chunks_exact(row) {
            stream
                .write_all(&S::big_endian(samples))
                .map_err(|e| fail(e.into()))?;
        }
        stream.finish().map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    Ok(out)
}
