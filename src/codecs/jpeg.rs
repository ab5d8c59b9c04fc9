//! JPEG output through mozjpeg-rs: mozjpeg's quantisation tables and optimised Huffman tables
//! at every effort, trellis quantisation from `balanced` up (image-rs's baseline 4:2:2
//! encoder has neither).

use mozjpeg_rs::{Encoder, Preset, Subsampling};

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::options::{ChromaSubsampling, EncodeOptions, JpegPreset};
use crate::pixels::Pixels;

pub fn encode(pixels: &Pixels, options: &EncodeOptions, metadata: &Metadata) -> Result<Vec<u8>> {
    let preset = match options.jpeg_preset {
        JpegPreset::Fast => Preset::BaselineFastest,
        JpegPreset::Balanced => Preset::BaselineBalanced,
        JpegPreset::Smallest => Preset::ProgressiveSmallest,
    };
    let subsampling = match options.chroma {
        ChromaSubsampling::S420 => Subsampling::S420,
        ChromaSubsampling::S422 => Subsampling::S422,
        ChromaSubsampling::S444 => Subsampling::S444,
    };
    let mut encoder = Encoder::new(preset)
        .quality(options.quality)
        .progressive(options.progressive || options.jpeg_preset == JpegPreset::Smallest)
        .subsampling(subsampling)
        // Optimised Huffman tables cost one more pass over the coefficients, a few percent of
        // the encode, and save 5-10% of the bytes; BaselineFastest leaves them off.
        .optimize_huffman(true)
        // zenyuv's colour conversion (SIMD128 in wasm, AVX2 natively) instead of the scalar
        // port of C mozjpeg's: ±1 rounding, invisible, and the same in every wasm engine.
        .fast_color(true);
    if let Some(icc) = &metadata.icc {
        encoder = encoder.icc_profile(icc.clone());
    }
    if let Some(exif) = &metadata.exif {
        encoder = encoder.exif_data(exif.clone());
    }
    if let Some(xmp) = &metadata.xmp {
        let mut app1 = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        app1.extend_from_slice(xmp);
        // A JPEG segment holds at most 65,533 bytes; a larger XMP would need Extended XMP.
        if app1.len() <= 65_533 {
            encoder = encoder.add_marker(1, app1);
        }
    }
    let result = if pixels.has_alpha {
        encoder.encode_rgba(&pixels.data, pixels.width, pixels.height)
    } else {
        encoder.encode_rgb(&pixels.data, pixels.width, pixels.height)
    };
    result.map_err(|e| Error::encode("JPEG encoder failed").with_source(e))
}
