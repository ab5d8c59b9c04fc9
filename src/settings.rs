//! Every option of a job in its text form ([`Settings`]), and the one description of those
//! options ([`describe_options`]): names, kinds, choices, ranges, defaults and help. The
//! page sends its options as settings JSON and builds its pickers from the description; the
//! CLI turns its flags into settings and takes its possible values, defaults and help from
//! the description; presets are settings with a label.

use serde::{Deserialize, Serialize};

use crate::choices::Choices;
use crate::error::{Error, Result};
use crate::format::{Format, encodable};
use crate::naming::{DateSource, NameTemplate};
use crate::options::{
    AVIF_SPEED_RANGE, ChromaSubsampling, ColorPolicy, Filter, Job, JpegPreset, MetadataPolicy,
    PngCompression, QUALITY_RANGE, VisualQuality,
};

/// Every option of a job, as text. Missing fields take the engine's defaults; unknown ones
/// are refused, so a misspelt field is an error rather than silently ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// A format id or extension from the format table (`jpeg`, `webp`, `png`, ...).
    pub format: String,
    pub quality: u8,
    pub progressive: bool,
    pub jpeg_effort: JpegPreset,
    /// Lossless WebP instead of lossy.
    pub lossless: bool,
    pub chroma: ChromaSubsampling,
    pub png_compression: PngCompression,
    pub avif_speed: u8,
    /// One output per size (`"2048"`, `"320x320:cover"`); none for the source size.
    pub sizes: Vec<String>,
    pub filter: Filter,
    pub enlarge: bool,
    pub metadata: MetadataPolicy,
    pub color: ColorPolicy,
    pub background: String,
    /// Largest output file, e.g. "500K"; empty for none.
    pub target_size: String,
    /// A SSIMULACRA2 score 1-100 each output must reach; null for none.
    pub visual_quality: Option<VisualQuality>,
    /// A name template such as `{date}-{stem}.{ext}`; empty for the default.
    pub name: String,
    pub dates: DateSource,
    /// Test builds only, and with no effect: proves that an option described here reaches
    /// the page's form and comes back in its JSON with no change to the page.
    #[cfg(feature = "test-hooks")]
    pub test_hook_option: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let job = Job::default();
        Settings {
            format: job.format.info().id.into(),
            quality: job.encode.quality,
            progressive: job.encode.progressive,
            jpeg_effort: job.encode.jpeg_preset,
            lossless: job.encode.lossless,
            chroma: job.encode.chroma,
            png_compression: job.encode.png_compression,
            avif_speed: job.encode.avif_speed,
            sizes: Vec::new(),
            filter: job.filter,
            enlarge: job.enlarge,
            metadata: job.metadata,
            color: job.color,
            background: job.background.to_string(),
            target_size: String::new(),
            visual_quality: job.visual_quality,
            name: String::new(),
            dates: DateSource::default(),
            #[cfg(feature = "test-hooks")]
            test_hook_option: false,
        }
    }
}

impl Settings {
    /// Reads settings from JSON, as the page sends them.
    pub fn from_json(json: &str) -> Result<Settings> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid_options(format!("cannot read the options: {e}")))
    }

    /// The job these settings describe, checked. The name template is checked too, so a
    /// bad one is an options error before any file is read.
    pub fn job(&self) -> Result<Job> {
        let format = Format::from_name(&self.format)
            .ok_or_else(|| Error::invalid_options(format!("unknown format '{}'", self.format)))?;
        let mut job = Job::new(format);
        job.encode.quality = self.quality;
        job.encode.progressive = self.progressive;
        job.encode.jpeg_preset = self.jpeg_effort;
        job.encode.lossless = self.lossless;
        job.encode.chroma = self.chroma;
        job.encode.png_compression = self.png_compression;
        job.encode.avif_speed = self.avif_speed;
        job.sizes = self
            .sizes
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse())
            .collect::<Result<_>>()?;
        job.filter = self.filter;
        job.enlarge = self.enlarge;
        job.metadata = self.metadata;
        job.color = self.color;
        job.background = self.background.parse()?;
        let target_size = self.target_size.trim();
        job.target_size = (!target_size.is_empty())
            .then(|| target_size.parse())
            .transpose()?;
        job.visual_quality = self.visual_quality;
        job.validate()?;
        self.template(job.sizes.len())?;
        Ok(job)
    }

    /// How outputs are named: the template given, or the default for this many sizes.
    pub fn template(&self, sizes: usize) -> Result<NameTemplate> {
        match self.name.trim() {
            "" => Ok(NameTemplate::for_sizes(sizes)),
            text => text.parse(),
        }
    }
}

/// One allowed value of a choice option, as the description gives it.
#[derive(Clone, Debug, Serialize)]
pub struct ChoiceInfo {
    pub name: &'static str,
    pub label: &'static str,
}

/// How an option's value is written.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OptionKind {
    /// One of a few names.
    Choice { choices: Vec<ChoiceInfo> },
    /// A whole number in a range (a visual quality also takes its levels' names).
    Number { min: u8, max: u8 },
    /// On or off; off unless given.
    Switch,
    /// Text in the option's short form, such as `500K`; empty for none.
    Text { example: &'static str },
    /// Several such texts; one output each.
    List { example: &'static str },
}

/// One option: its field in the settings JSON, its CLI flag, its name on the page, its
/// kind, what it does and its default.
#[derive(Clone, Debug, Serialize)]
pub struct OptionInfo {
    pub field: &'static str,
    pub flag: &'static str,
    /// A short name for a form field.
    pub label: &'static str,
    #[serde(flatten)]
    pub kind: OptionKind,
    pub help: &'static str,
    /// As it is written in settings JSON.
    pub default: serde_json::Value,
}

/// A choice type's names and labels, as the description gives them. The page's fit picker
/// reads [`Fit`](crate::Fit)'s this way too: a fit is no option of its own but part of a
/// size (`800x600:cover`).
pub fn choice_infos<T: Choices>() -> Vec<ChoiceInfo> {
    T::CHOICES
        .iter()
        .map(|c| ChoiceInfo {
            name: c.name,
            label: c.label,
        })
        .collect()
}

fn choices<T: Choices>() -> OptionKind {
    OptionKind::Choice {
        choices: choice_infos::<T>(),
    }
}

fn number(range: std::ops::RangeInclusive<u8>) -> OptionKind {
    OptionKind::Number {
        min: *range.start(),
        max: *range.end(),
    }
}

/// Every option of [`Settings`], in the order the CLI help lists them.
pub fn describe_options() -> Vec<OptionInfo> {
    let formats = OptionKind::Choice {
        choices: encodable()
            .map(|f| ChoiceInfo {
                name: f.id,
                label: f.name,
            })
            .collect(),
    };
    let table: [(&str, &str, &str, OptionKind, &str); 18] = [
        ("format", "to", "Format", formats, "Output format."),
        (
            "sizes",
            "size",
            "Sizes",
            OptionKind::List { example: "2048" },
            "An output size; repeat for several outputs per input: 2048 (long edge), s720 \
             (short edge), w720, h480, 800x600 (fit inside), 800x600:cover | :contain | \
             :fill, 50%, orig.",
        ),
        (
            "filter",
            "filter",
            "Resampling filter",
            choices::<Filter>(),
            "Resampling filter.",
        ),
        (
            "enlarge",
            "enlarge",
            "Enlarge small photos",
            OptionKind::Switch,
            "Allow outputs larger than the source.",
        ),
        (
            "quality",
            "quality",
            "Quality",
            number(QUALITY_RANGE),
            "Quality of lossy formats (JPEG, WebP, AVIF).",
        ),
        (
            "targetSize",
            "target-size",
            "Max file size",
            OptionKind::Text { example: "500K" },
            "Largest file each output may be, e.g. 500K or 1.5M (K = 1,000 bytes): the \
             quality is lowered as far as needed, never raised above --quality. Lossy \
             formats only.",
        ),
        (
            "visualQuality",
            "visual-quality",
            "Looks",
            number(QUALITY_RANGE),
            "How good each output must look, as a SSIMULACRA2 score or a named level. Each \
             output gets the lowest quality that reaches it, in about 7 encodes. JPEG, WebP \
             and AVIF; not with a target size.",
        ),
        (
            "progressive",
            "progressive",
            "Progressive JPEG",
            OptionKind::Switch,
            "Write progressive JPEG (renders coarse-to-fine; about 1.8x the encode time for \
             at most 2% fewer bytes). Baseline otherwise.",
        ),
        (
            "chroma",
            "chroma",
            "JPEG colour resolution",
            choices::<ChromaSubsampling>(),
            "JPEG chroma subsampling.",
        ),
        (
            "jpegEffort",
            "jpeg-effort",
            "JPEG effort",
            choices::<JpegPreset>(),
            "JPEG encoder effort.",
        ),
        (
            "lossless",
            "lossless",
            "Lossless",
            OptionKind::Switch,
            "Write lossless WebP (exact pixels, much larger for photos) instead of lossy.",
        ),
        (
            "avifSpeed",
            "avif-speed",
            "AVIF speed",
            number(AVIF_SPEED_RANGE),
            "AVIF encoder speed, from the smallest files (slowest) to the fastest.",
        ),
        (
            "pngCompression",
            "png-compression",
            "PNG compression",
            choices::<PngCompression>(),
            "PNG compression effort.",
        ),
        (
            "metadata",
            "metadata",
            "Metadata",
            choices::<MetadataPolicy>(),
            "What happens to EXIF (camera, date, GPS), XMP, IPTC and comments. strip-gps \
             removes the location (GPS, and XMP place names) and keeps the rest; keep resets \
             the orientation to upright.",
        ),
        (
            "color",
            "color",
            "Colours",
            choices::<ColorPolicy>(),
            "keep: leave colours in the photo's own profile (Display P3, Adobe RGB) and \
             embed it; converted to sRGB where the output cannot carry it, and always for \
             CMYK. srgb: convert to sRGB and tag the file as sRGB.",
        ),
        (
            "background",
            "background",
            "Background",
            OptionKind::Text { example: "#ffffff" },
            "Colour behind transparency for formats without alpha, and for :contain padding.",
        ),
        (
            "name",
            "name",
            "File names",
            OptionKind::Text {
                example: "{date}-{stem}.{ext}",
            },
            "Output file name, below the input's own folder, from fields in braces.",
        ),
        (
            "dates",
            "dates",
            "File dates",
            choices::<DateSource>(),
            "The date each output file gets: the input's modification time, or when the \
             photo was taken (from EXIF; the file's time without one).",
        ),
    ];
    #[cfg(feature = "test-hooks")]
    let table = table.into_iter().chain([(
        "testHookOption",
        "test-hook-option",
        "Test hook option",
        OptionKind::Switch,
        "Test builds only; does nothing.",
    )]);
    let defaults = serde_json::to_value(Settings::default()).expect("settings serialise");
    table
        .into_iter()
        .map(|(field, flag, label, kind, help)| OptionInfo {
            field,
            flag,
            label,
            default: defaults[field].clone(),
            kind,
            help,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_covers_every_setting_once() {
        let described: Vec<&str> = describe_options().iter().map(|o| o.field).collect();
        let serde_json::Value::Object(fields) = serde_json::to_value(Settings::default()).unwrap()
        else {
            panic!("settings are an object")
        };
        for field in fields.keys() {
            let times = described.iter().filter(|d| **d == field).count();
            assert_eq!(times, 1, "{field} is described {times} times");
        }
        for field in described {
            assert!(fields.contains_key(field), "{field} is no setting");
        }
    }
}
