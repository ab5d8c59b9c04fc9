//! The HEVC SPS reader: heic-rs parses but discards the VUI, so the sequence parameter set
//! is walked here as far as the picture size and `video_signal_type` (colour and range).

use crate::codecs::stream::StreamColour;

/// The coded picture size an SPS NAL unit declares.
pub(super) fn size(nal: &[u8]) -> Option<(u32, u32)> {
    let (_, _, width, height) = to_size(nal)?;
    Some((width, height))
}

/// Walks an SPS NAL unit (with its 2-byte header) up to and including the picture size.
fn to_size(nal: &[u8]) -> Option<(Bits, u32, u32, u32)> {
    // Remove emulation-prevention bytes (00 00 03 -> 00 00).
    let mut rbsp = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal.get(2..)? {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut r = Bits { data: rbsp, pos: 0 };
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.u(3)?;
    r.skip(1)?; // sps_temporal_id_nesting_flag
    // profile_tier_level(1, max_sub_layers_minus1)
    r.skip(88)?; // general profile space .. general_inbld/reserved flag
    r.skip(8)?; // general_level_idc
    let mut sub_profile = [false; 8];
    let mut sub_level = [false; 8];
    for i in 0..max_sub_layers_minus1 as usize {
        sub_profile[i] = r.u(1)? == 1;
        sub_level[i] = r.u(1)? == 1;
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1 as usize))?;
    }
    for i in 0..max_sub_layers_minus1 as usize {
        if sub_profile[i] {
            r.skip(88)?;
        }
        if sub_level[i] {
            r.skip(8)?;
        }
    }
    r.ue()?; // sps_seq_parameter_set_id
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    let width = r.ue()?; // pic_width_in_luma_samples
    let height = r.ue()?; // pic_height_in_luma_samples
    Some((r, max_sub_layers_minus1, width, height))
}

/// Read an SPS NAL unit as far as the VUI's `video_signal_type`. `None` when the SPS
/// cannot be walked.
pub(super) fn colour(nal: &[u8]) -> Option<StreamColour> {
    let (mut r, max_sub_layers_minus1, _, _) = to_size(nal)?;
    if r.u(1)? == 1 {
        for _ in 0..4 {
            r.ue()?; // conformance window offsets
        }
    }
    r.ue()?; // bit_depth_luma_minus8
    r.ue()?; // bit_depth_chroma_minus8
    let log2_max_poc_lsb = r.ue()?.checked_add(4)?;
    let ordering_all = r.u(1)? == 1;
    let first = if ordering_all {
        0
    } else {
        max_sub_layers_minus1
    };
    for _ in first..=max_sub_layers_minus1 {
        r.ue()?;
        r.ue()?;
        r.ue()?;
    }
    for _ in 0..6 {
        r.ue()?; // min cb, diff cb, min tb, diff tb, depth inter, depth intra
    }
    if r.u(1)? == 1 && r.u(1)? == 1 {
        // scaling_list_enabled_flag && sps_scaling_list_data_present_flag
        for size_id in 0..4u32 {
            let step = if size_id == 3 { 3 } else { 1 };
            let mut matrix_id = 0;
            while matrix_id < 6 {
                if r.u(1)? == 0 {
                    r.ue()?; // scaling_list_pred_matrix_id_delta
                } else {
                    let coefs = 64.min(1u32 << (4 + (size_id << 1)));
                    if size_id > 1 {
                        r.ue()?; // scaling_list_dc_coef_minus8 (se, same length)
                    }
                    for _ in 0..coefs {
                        r.ue()?; // scaling_list_delta_coef (se, same length)
                    }
                }
                matrix_id += step;
            }
        }
    }
    r.skip(2)?; // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if r.u(1)? == 1 {
        // pcm_enabled_flag
        r.skip(8)?;
        r.ue()?;
        r.ue()?;
        r.skip(1)?;
    }
    let num_sets = r.ue()?;
    if num_sets > 64 {
        return None;
    }
    let mut num_delta_pocs: Vec<u32> = Vec::with_capacity(num_sets as usize);
    for idx in 0..num_sets {
        let inter = idx != 0 && r.u(1)? == 1;
        if inter {
            // In the SPS delta_idx_minus1 is absent: the reference is idx - 1.
            r.skip(1)?; // delta_rps_sign
            r.ue()?; // abs_delta_rps_minus1
            let ref_count = num_delta_pocs[idx as usize - 1];
            let mut n = 0;
            for _ in 0..=ref_count {
                let used = r.u(1)? == 1;
                let use_delta = if used { true } else { r.u(1)? == 1 };
                if used || use_delta {
                    n += 1;
                }
            }
            num_delta_pocs.push(n);
        } else {
            let neg = r.ue()?;
            let pos = r.ue()?;
            if neg > 16 || pos > 16 {
                return None;
            }
            for _ in 0..neg + pos {
                r.ue()?;
                r.skip(1)?;
            }
            num_delta_pocs.push(neg + pos);
        }
    }
    if r.u(1)? == 1 {
        // long_term_ref_pics_present_flag
        let n = r.ue()?;
        if n > 32 {
            return None;
        }
        for _ in 0..n {
            r.skip(log2_max_poc_lsb as usize + 1)?;
        }
    }
    r.skip(2)?; // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    if r.u(1)? == 0 {
        return Some(StreamColour::default()); // no VUI
    }
    // vui_parameters()
    if r.u(1)? == 1 && r.u(8)? == 255 {
        r.skip(32)?; // sar_width, sar_height
    }
    if r.u(1)? == 1 {
        r.skip(1)?; // overscan_appropriate_flag
    }
    let mut c = StreamColour::default();
    if r.u(1)? == 1 {
        // video_signal_type_present_flag
        r.skip(3)?; // video_format
        c.full_range = r.u(1)? == 1;
        if r.u(1)? == 1 {
            // colour_description_present_flag; libde265 maps codes it does
            // not know to 2, and libheif sees only what it reports.
            let p = r.u(8)? as u16;
            let t = r.u(8)? as u16;
            let m = r.u(8)? as u16;
            c.primaries = if p == 0 || p == 3 || p >= 11 { 2 } else { p };
            c.transfer = if t == 0 || t == 3 || t >= 18 { 2 } else { t };
            c.matrix = if m >= 11 { 2 } else { m };
        }
    }
    Some(c)
}

/// A minimal MSB-first bit reader over an RBSP.
struct Bits {
    data: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn u(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos = self.pos.checked_add(n)?;
        (self.pos <= self.data.len() * 8).then_some(())
    }

    /// Exp-Golomb code; `se(v)` has the same length, so it is read with this.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.u(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.u(zeros)?)
    }
}
