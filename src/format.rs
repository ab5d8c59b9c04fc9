//! The one table of formats: names, extensions, MIME types, magic bytes and abilities.
//!
//! Everything else (the decoder dispatch, the encoder dispatch, the CLI's `--to` values, the
//! README's table, the web page's format picker) is derived from [`FORMATS`].

use serde::Serialize;

/// An image format imgbatch knows about, whether or not this build can read or write it.
/// Serialised as its table id (`"jpeg"`, `"webp"`); any known extension deserialises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
    Tiff,
    Bmp,
    Ico,
    Tga,
    Pnm,
    Qoi,
    Hdr,
    OpenExr,
    Farbfeld,
    Dds,
    Avif,
    Heic,
    Jxl,
}

/// One row of the format table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FormatInfo {
    pub format: Format,
    /// Stable lowercase id used by the CLI (`--to webp`), `--json` and the web page.
    pub id: &'static str,
    /// Human name.
    pub name: &'static str,
    /// File extensions, the first one is what outputs get.
    pub extensions: &'static [&'static str],
    pub mime: &'static str,
    /// This build decodes it.
    pub can_decode: bool,
    /// This build encodes it.
    pub can_encode: bool,
    /// Output keeps an alpha channel; otherwise alpha is flattened onto the job's background.
    pub alpha: bool,
    /// Output can carry an ICC profile / EXIF / XMP.
    pub icc: bool,
    pub exif: bool,
    pub xmp: bool,
    /// Largest width or height the format can hold, if it is small enough to matter.
    pub max_side: Option<u32>,
    /// The encoder is lossy and takes a quality (1-100), so a target file size can be met.
    pub lossy: bool,
    /// The encoder also writes lossless when the job asks (`lossless`), and then takes no
    /// quality.
    pub lossless_option: bool,
    /// Output keeps 16 bits a sample from sources that have them; others get 8.
    pub sixteen_bit: bool,
    /// What the format is for, in a few words (README table, UI tooltips).
    pub note: &'static str,
    #[serde(skip)]
    magic: fn(&[u8]) -> bool,
}

const fn row(
    format: Format,
    id: &'static str,
    name: &'static str,
    extensions: &'static [&'static str],
    mime: &'static str,
    magic: fn(&[u8]) -> bool,
) -> FormatInfo {
    FormatInfo {
        format,
        id,
        name,
        extensions,
        mime,
        can_decode: true,
        can_encode: false,
        alpha: true,
        icc: false,
        exif: false,
        xmp: false,
        max_side: None,
        lossy: false,
        lossless_option: false,
        sixteen_bit: false,
        note: "",
        magic,
    }
}

impl FormatInfo {
    const fn encodes(mut self, alpha: bool, icc: bool, exif: bool, xmp: bool) -> Self {
        self.can_encode = true;
        self.alpha = alpha;
        self.icc = icc;
        self.exif = exif;
        self.xmp = xmp;
        self
    }
    /// Decoded by native builds only; in wasm the web page hands the file to the browser.
    const fn decodes_natively_only(mut self) -> Self {
        self.can_decode = cfg!(not(target_arch = "wasm32"));
        self
    }
    const fn lossy(mut self) -> Self {
        self.lossy = true;
        self
    }
    const fn lossless_on_request(mut self) -> Self {
        self.lossless_option = true;
        self
    }
    const fn sixteen_bit(mut self) -> Self {
        self.sixteen_bit = true;
        self
    }
    const fn max_side(mut self, side: u32) -> Self {
        self.max_side = Some(side);
        self
    }
    const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }

    /// The extension outputs get (without the dot).
    pub fn extension(&self) -> &'static str {
        self.extensions[0]
    }
}

/// The table. Sniffing tries rows in this order, so the weak TGA heuristic comes last.
pub static FORMATS: [FormatInfo; 17] = [
    row(
        Format::Jpeg,
        "jpeg",
        "JPEG",
        &["jpg", "jpeg", "jpe", "jfif"],
        "image/jpeg",
        |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
    )
    .encodes(false, true, true, true)
    .lossy()
    .note("photos; mozjpeg-rs, fast by default, trellis at higher effort"),
    row(
        Format::Png,
        "png",
        "PNG",
        &["png", "apng"],
        "image/png",
        |b| b.starts_with(b"\x89PNG\r\n\x1a\n"),
    )
    .encodes(true, true, true, true)
    .sixteen_bit()
    .note("lossless, alpha, 16-bit kept; APNG gives its first frame"),
    row(Format::Gif, "gif", "GIF", &["gif"], "image/gif", |b| {
        b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")
    })
    .encodes(true, false, false, false)
    .note("256 colours; animations give their first frame"),
    row(Format::WebP, "webp", "WebP", &["webp"], "image/webp", |b| {
        b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP"
    })
    .encodes(true, true, true, true)
    .lossy()
    .lossless_on_request()
    // VP8 stores each side in 14 bits: 16,383 px at most.
    .max_side(16383)
    .note("lossy (zenwebp) with lossless alpha, or lossless on request; animations give their first frame"),
    row(
        Format::Tiff,
        "tiff",
        "TIFF",
        &["tif", "tiff"],
        "image/tiff",
        |b| {
            b.starts_with(b"II*\0")
                || b.starts_with(b"MM\0*")
                || b.starts_with(b"II+\0")
                || b.starts_with(b"MM\0+")
        },
    )
    .encodes(true, true, false, false)
    .sixteen_bit()
    .note("print and archive, 16-bit kept; uncompressed output"),
    row(
        Format::Bmp,
        "bmp",
        "BMP",
        &["bmp", "dib"],
        "image/bmp",
        |b| b.starts_with(b"BM"),
    )
    .encodes(true, false, false, false),
    row(
        Format::Ico,
        "ico",
        "ICO",
        &["ico", "cur"],
        "image/x-icon",
        looks_like_ico,
    )
    .encodes(true, false, false, false)
    .max_side(256)
    .note("icons; outputs are fitted inside 256x256"),
    row(
        Format::Tga,
        "tga",
        "TGA",
        &["tga", "icb", "vda", "vst"],
        "image/x-tga",
        looks_like_tga,
    ),
    row(
        Format::Pnm,
        "pnm",
        "PNM",
        &["pnm", "pbm", "pgm", "ppm", "pam"],
        "image/x-portable-anymap",
        |b| b.len() >= 2 && b[0] == b'P' && (b'1'..=b'7').contains(&b[1]),
    ),
    row(Format::Qoi, "qoi", "QOI", &["qoi"], "image/qoi", |b| {
        b.starts_with(b"qoif")
    })
    .encodes(true, false, false, false),
    row(
        Format::Hdr,
        "hdr",
        "Radiance HDR",
        &["hdr"],
        "image/vnd.radiance",
        |b| b.starts_with(b"#?RADIANCE") || b.starts_with(b"#?RGBE"),
    )
    .note("clipped to 8-bit, no tone mapping"),
    row(
        Format::OpenExr,
        "exr",
        "OpenEXR",
        &["exr"],
        "image/x-exr",
        |b| b.starts_with(&[0x76, 0x2F, 0x31, 0x01]),
    )
    .note("clipped to 8-bit, no tone mapping"),
    row(
        Format::Farbfeld,
        "farbfeld",
        "farbfeld",
        &["ff"],
        "image/x-farbfeld",
        |b| b.starts_with(b"farbfeld"),
    ),
    row(
        Format::Dds,
        "dds",
        "DDS",
        &["dds"],
        "image/vnd-ms.dds",
        |b| b.starts_with(b"DDS "),
    ),
    row(Format::Avif, "avif", "AVIF", &["avif"], "image/avif", |b| {
        iso_brand(b, &[b"avif", b"avis"])
    })
    .decodes_natively_only()
    .encodes(true, false, true, false)
    .lossy()
    .note("lossy (ravif), small and slow to write; read by rav1d (dav1d in Rust), and by the browser on the web page"),
    row(
        Format::Heic,
        "heic",
        "HEIC/HEIF",
        &["heic", "heif", "hif"],
        "image/heic",
        |b| {
            iso_brand(
                b,
                &[
                    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
                ],
            )
        },
    )
    .note("iPhone and Android photos; read only (heic-rs); overlay (iovl) images are refused"),
    row(Format::Jxl, "jxl", "JPEG XL", &["jxl"], "image/jxl", |b| {
        b.starts_with(&[0xFF, 0x0A])
            || b.starts_with(&[
                0, 0, 0, 0x0C, b'J', b'X', b'L', b' ', 0x0D, 0x0A, 0x87, 0x0A,
            ])
    })
    .note("read only (jxl-oxide)"),
];

/// ISO-BMFF files (AVIF, HEIF) name their brand in the leading `ftyp` box.
fn iso_brand(b: &[u8], brands: &[&[u8; 4]]) -> bool {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let end = size.clamp(16, b.len());
    // Major brand at 8..12, then minor version, then compatible brands.
    std::iter::once(&b[8..12])
        .chain(b[16..end].chunks_exact(4))
        .any(|brand| brands.iter().any(|want| brand == &want[..]))
}

/// ICO/CUR's 4-byte signature (`00 00 01 00` / `00 00 02 00`) is also how many TGA files
/// begin, so also require at least one directory entry with a zero reserved byte.
fn looks_like_ico(b: &[u8]) -> bool {
    (b.starts_with(&[0, 0, 1, 0]) || b.starts_with(&[0, 0, 2, 0]))
        && b.len() >= 22
        && u16::from_le_bytes([b[4], b[5]]) > 0
        && b[9] == 0
}

/// TGA has no magic number. Its 18-byte header is constrained enough to sniff: a colour map
/// type of 0 or 1, one of six image types, and a sane pixel depth and size. Tried last.
fn looks_like_tga(b: &[u8]) -> bool {
    if b.len() < 18 {
        return false;
    }
    let (color_map_type, image_type, depth) = (b[1], b[2], b[16]);
    let width = u16::from_le_bytes([b[12], b[13]]);
    let height = u16::from_le_bytes([b[14], b[15]]);
    let map_ok = match color_map_type {
        0 => true,
        1 => matches!(b[7], 15 | 16 | 24 | 32),
        _ => false,
    };
    map_ok
        && matches!(image_type, 1 | 2 | 3 | 9 | 10 | 11)
        && matches!(depth, 8 | 15 | 16 | 24 | 32)
        && width > 0
        && height > 0
        && b[17] & 0xC0 == 0
}

impl Format {
    pub fn info(self) -> &'static FormatInfo {
        FORMATS
            .iter()
            .find(|row| row.format == self)
            .expect("every Format has a row in FORMATS")
    }

    /// Identifies the format from the file's first bytes. Never looks at a file name.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        FORMATS
            .iter()
            .find(|row| (row.magic)(bytes))
            .map(|row| row.format)
    }

    /// Looks up a format by id or extension (`"jpg"`, `"jpeg"`, `"WebP"`), for options.
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.trim().trim_start_matches('.').to_ascii_lowercase();
        FORMATS
            .iter()
            .find(|row| row.id == name || row.extensions.contains(&name.as_str()))
            .map(|row| row.format)
    }

    /// Whether a file name's extension belongs to an image format we know, used only to
    /// tell "not an image" (skip) from "an image we cannot read" (error).
    pub fn is_image_extension(ext: &str) -> bool {
        let ext = ext.to_ascii_lowercase();
        FORMATS
            .iter()
            .any(|row| row.extensions.contains(&ext.as_str()))
    }

    pub(crate) fn to_image(self) -> Option<image::ImageFormat> {
        use image::ImageFormat as I;
        Some(match self {
            Format::Jpeg => I::Jpeg,
            Format::Png => I::Png,
            Format::Gif => I::Gif,
            Format::WebP => I::WebP,
            Format::Tiff => I::Tiff,
            Format::Bmp => I::Bmp,
            Format::Ico => I::Ico,
            Format::Tga => I::Tga,
            Format::Pnm => I::Pnm,
            Format::Qoi => I::Qoi,
            Format::Hdr => I::Hdr,
            Format::OpenExr => I::OpenExr,
            Format::Farbfeld => I::Farbfeld,
            Format::Dds => I::Dds,
            Format::Avif | Format::Heic | Format::Jxl => return None,
        })
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.info().id)
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Format::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown image format '{name}'")))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.info().name)
    }
}

/// The formats this build can decode, in table order.
pub fn decodable() -> impl Iterator<Item = &'static FormatInfo> {
    FORMATS.iter().filter(|f| f.can_decode)
}

/// The formats this build can encode, in table order.
pub fn encodable() -> impl Iterator<Item = &'static FormatInfo> {
    FORMATS.iter().filter(|f| f.can_encode)
}
