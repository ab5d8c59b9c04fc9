//! imgbatch: convert, resize, orient and strip metadata from many images at once.
//!
//! The engine is pure Rust and knows nothing of files or the DOM: it takes bytes and a
//! [`Job`] and returns encoded [`Output`]s. The CLI (`src/bin/imgbatch/`) and the wasm
//! layer are thin adapters around it.
//!
//! ```no_run
//! use imgbatch::{Format, Job, ResizeSpec, convert};
//! let bytes = std::fs::read("photo.jpg").unwrap();
//! let mut job = Job::new(Format::WebP);
//! job.sizes = vec![ResizeSpec::LongEdge { px: 2048 }, "320".parse().unwrap()];
//! for output in convert(&bytes, &job).unwrap() {
//!     println!("{}x{}: {} bytes", output.width, output.height, output.bytes.len());
//! }
//! ```

mod archive;
mod batch;
mod choices;
mod codecs;
mod color;
mod container;
mod error;
mod format;
mod limits;
mod metadata;
mod naming;
mod note;
mod options;
mod pipeline;
mod pixels;
mod preset;
mod resize;
mod schedule;
mod settings;
mod visual_quality;
#[cfg(all(target_arch = "wasm32", feature = "wasm"))]
mod wasm;
/// `initThreadPool(n)` for the page's engine worker (wasm-bindgen-rayon's export).
#[cfg(all(target_arch = "wasm32", feature = "parallel"))]
pub use wasm_bindgen_rayon::init_thread_pool;

pub use archive::{
    ZIP_LOCAL_HEADER_MAX, ZIP_TAIL_BYTES, ZipDirectory, ZipEntry, zip_directory, zip_entries,
    zip_entry_bytes, zip64_directory,
};
pub use batch::{
    BatchOptions, BatchSummary, CancelToken, Event, FileResult, MemorySource, Source, run_batch,
};
pub use choices::{Choice, Choices};
pub use codecs::Header;
#[cfg(not(target_arch = "wasm32"))]
pub use codecs::av1_child::{AV1_WORKER_ARG, isolate_av1, serve_av1_worker_if_asked};
pub use container::frame_count;
pub use error::{Error, ErrorKind, Result, quiet_caught_panics};
pub use format::{FORMATS, Format, FormatInfo, decodable, encodable};
pub use limits::Limits;
pub use metadata::{Metadata, exif_capture_time, exif_orientation};
pub use naming::{
    Collision, DateSource, DateTime, NAME_FIELDS, NameInput, NameOutput, NameTemplate, Names,
};
pub use note::Note;
pub use options::{
    AVIF_SPEED_RANGE, ByteSize, ChromaSubsampling, ColorPolicy, EncodeOptions, Filter, Fit, Job,
    JpegPreset, MetadataPolicy, PngCompression, QUALITY_RANGE, ResizeSpec, Rgb, VisualLevel,
    VisualQuality,
};
pub use pipeline::{
    Output, SourceInfo, Timings, convert, convert_browser_decoded, convert_pixels, estimate,
    inspect, sniff,
};
pub use pixels::{Pixels, Sample};
pub use preset::{BuiltInPreset, Preset, built_in_presets, find_preset};
pub use resize::Plan;
pub use schedule::{Admission, InFlight, Scheduler};
pub use settings::{ChoiceInfo, OptionInfo, OptionKind, Settings, choice_infos, describe_options};

/// Decodes the first frame, upright, as 8-bit RGB(A), with nothing else done (no colour
/// management): for tests that compare our pixels against a reference decoder.
///
/// Not part of the API: the decoders behind it are private and no public call decodes
/// without colour management, so the tests in tests/ cannot build it themselves.
#[doc(hidden)]
pub fn decode_upright(bytes: &[u8], limits: &Limits) -> Result<Pixels> {
    decode_first_frame(bytes, limits, codecs::Colour::AsDecoded)
}

/// As [`decode_upright`], with any embedded ICC profile (RGB, grey or CMYK) converted to
/// sRGB: what a colour-managed viewer shows, and what `ColorPolicy::Srgb` outputs hold.
/// Not part of the API either, for the same reason.
#[doc(hidden)]
pub fn decode_upright_srgb(bytes: &[u8], limits: &Limits) -> Result<Pixels> {
    decode_first_frame(bytes, limits, codecs::Colour::Srgb)
}

fn decode_first_frame(bytes: &[u8], limits: &Limits, colour: codecs::Colour) -> Result<Pixels> {
    limits.check_input_bytes(bytes.len() as u64)?;
    let format = sniff(bytes)?;
    let decoded = codecs::decode(bytes, format, limits, colour, false, |_| Ok(()))?;
    Ok(decoded.pixels.into_eight_bit())
}
