//! The colour rule of the reference decoders (libheif, libavif): which `nclx`, matrix and
//! range a coded picture converts with, where heic-rs's own default would differ.

use heic_rs::hevc::Frame;
use heic_rs::{MatrixCoefficients, Nclx, Range};

use crate::codecs::stream::StreamColour;

/// The colour rule of libheif 1.2x with the libde265 decoder, which libavif shares for AV1
/// (its sequence header in place of the VUI; `avifCalcYUVCoefficients` also starts from
/// BT.601 for any matrix it has no entry for):
///
/// * an `nclx` `colr` on the item wins (`ImageItem::decode_image`: "If there
///   is an NCLX profile in the HEIF/AVIF metadata, use this");
/// * otherwise the decoder plugin's profile from the SPS VUI
///   (`decoder_libde265.cc`: matrix, primaries, transfer and
///   `video_full_range_flag`), with libde265's defaults when absent
///   (2/2/2, limited; matrix codes >= 11 also read as 2);
/// * the matrix is then turned into Kr/Kb by `nclx.cc` `get_Kr_Kb`, where
///   anything it has no entry for (2 = unspecified, 3, 8 handled apart, ...)
///   falls back to `YCbCr_to_RGB_coefficients::defaults()`, i.e. BT.601.
pub(super) fn reference_nclx(
    item: Option<Nclx>,
    vui: StreamColour,
) -> std::result::Result<Nclx, String> {
    let (primaries, transfer, code, full) = match item {
        Some(n) => (
            n.primaries,
            n.transfer,
            n.matrix_code,
            n.range == Range::Full,
        ),
        None => (vui.primaries, vui.transfer, vui.matrix, vui.full_range),
    };
    let matrix = match code {
        0 => MatrixCoefficients::Identity,
        1 => MatrixCoefficients::Bt709,
        7 => MatrixCoefficients::Smpte240m,
        9 | 10 => MatrixCoefficients::Bt2020Ncl,
        // 12/13 derive Kr/Kb from the primaries; for the primaries heic-rs has
        // a matrix for, that is the same matrix. Other primaries are refused
        // rather than decoded with the wrong weights.
        12 | 13 => match primaries {
            1 => MatrixCoefficients::Bt709,
            5..=7 => MatrixCoefficients::Bt601,
            9 => MatrixCoefficients::Bt2020Ncl,
            2 => MatrixCoefficients::Bt601, // libheif: no primaries -> defaults (601)
            p => {
                return Err(format!(
                    "chromaticity-derived matrix (code {code}) with primaries {p} is not supported"
                ));
            }
        },
        8 => return Err("YCgCo matrix (code 8) is not supported".into()),
        11 | 14 => {
            return Err(format!(
                "matrix coefficients {code} (YDzDx/ICtCp) are not supported"
            ));
        }
        // 2 (unspecified), 4 (FCC, Kr .30/Kb .11, within a level of BT.601),
        // 5, 6 and anything unknown: BT.601, as libheif.
        _ => MatrixCoefficients::Bt601,
    };
    let matrix_code = match matrix {
        MatrixCoefficients::Identity => 0,
        MatrixCoefficients::Bt709 => 1,
        MatrixCoefficients::Smpte240m => 7,
        MatrixCoefficients::Bt2020Ncl => 9,
        _ => 6,
    };
    Ok(Nclx {
        primaries,
        transfer,
        matrix,
        matrix_code,
        range: if full { Range::Full } else { Range::Limited },
    })
}

/// Stretches a limited-range alpha plane (16-235 at 8 bits) to full range.
pub(super) fn alpha_to_full_range(a: &mut Frame) {
    let shift = u32::from(a.bit_depth.saturating_sub(8));
    let (low, span) = (16u32 << shift, 219u32 << shift);
    let max = (1u32 << a.bit_depth) - 1;
    for v in &mut a.y {
        let v32 = u32::from(*v).clamp(low, low + span) - low;
        *v = ((v32 * max + span / 2) / span) as u16;
    }
}
