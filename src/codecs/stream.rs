//! What a coded picture's own stream header says (an HEVC SPS, an AV1 sequence header):
//! shared by the HEIF adapter and the AV1 decoder, so that neither imports the other.

/// What a coded picture's own header says: its size, depth and colour signalling.
pub(super) struct StreamHeader {
    pub size: (u32, u32),
    /// Bits per luma sample.
    pub bit_depth: u8,
    pub colour: StreamColour,
}

/// The colour signalling of a coded stream: an HEVC SPS VUI as libde265 reports it, or an
/// AV1 sequence header as dav1d does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StreamColour {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

impl Default for StreamColour {
    /// What libde265 reports for a stream without a VUI colour description:
    /// everything "unspecified" (2), limited range.
    fn default() -> Self {
        StreamColour {
            primaries: 2,
            transfer: 2,
            matrix: 2,
            full_range: false,
        }
    }
}
