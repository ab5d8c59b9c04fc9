//! The conversion flags. Each is an option the engine describes (`describe_options`): its
//! possible values, default and help come from there, and the flags are read into the
//! engine's `Settings`, the form the page and presets use, so a job is built in one place.

use std::sync::LazyLock;

use clap::CommandFactory;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use imgbatch::{
    Choices, ChromaSubsampling, ColorPolicy, DateSource, Error, Filter, Format, Job, JpegPreset,
    MetadataPolicy, NameTemplate, OptionInfo, OptionKind, PngCompression, Settings,
};

use crate::Args;

/// The heading of the options a preset sets; they cannot be given with one.
pub(crate) const CONVERSION: &str = "Conversion (all set by --preset)";

/// What each file becomes: everything a preset sets.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = CONVERSION)]
pub(crate) struct ConversionArgs {
    #[arg(short, long, help = help("format"), default_value = default("format"),
          value_parser = format_parser())]
    to: Format,
    /// Shrink so the long edge is at most N pixels (same as --size N).
    #[arg(long, value_name = "N")]
    max: Option<u32>,
    #[arg(long = "size", value_name = "SPEC", help = help("sizes"),
          value_parser = checked::<imgbatch::ResizeSpec>)]
    sizes: Vec<String>,
    #[arg(long, help = help("filter"), default_value = default("filter"),
          value_parser = choice::<Filter>())]
    filter: Filter,
    #[arg(long, help = help("enlarge"))]
    enlarge: bool,
    #[arg(short, long, help = help("quality"), default_value = default("quality"),
          value_parser = in_range("quality"))]
    quality: u8,
    #[arg(long, value_name = "SIZE", help = help("targetSize"),
          value_parser = checked::<imgbatch::ByteSize>)]
    target_size: Option<String>,
    #[arg(long, value_name = "SCORE", help = visual_quality_help(),
          value_parser = parse_engine::<imgbatch::VisualQuality>)]
    visual_quality: Option<imgbatch::VisualQuality>,
    #[arg(long, help = help("progressive"))]
    progressive: bool,
    /// Baseline JPEG, the default now; still accepted so scripts written when progressive was
    /// the default keep working.
    #[arg(long, hide = true, conflicts_with = "progressive")]
    baseline: bool,
    #[arg(long, help = help("chroma"), default_value = default("chroma"),
          value_parser = choice::<ChromaSubsampling>())]
    chroma: ChromaSubsampling,
    #[arg(long, help = help("jpegEffort"), default_value = default("jpegEffort"),
          value_parser = choice::<JpegPreset>())]
    jpeg_effort: JpegPreset,
    #[arg(long, help = help("lossless"))]
    lossless: bool,
    #[arg(long, help = help("avifSpeed"), default_value = default("avifSpeed"),
          value_parser = in_range("avifSpeed"))]
    avif_speed: u8,
    #[arg(long, help = help("pngCompression"), default_value = default("pngCompression"),
          value_parser = choice::<PngCompression>())]
    png_compression: PngCompression,
    #[arg(long, help = help("metadata"), default_value = default("metadata"),
          value_parser = choice::<MetadataPolicy>())]
    metadata: MetadataPolicy,
    #[arg(long, help = help("color"), default_value = default("color"),
          value_parser = choice::<ColorPolicy>())]
    color: ColorPolicy,
    #[arg(long, help = help("background"), default_value = default("background"),
          value_parser = checked::<imgbatch::Rgb>)]
    background: String,
    #[arg(long, value_name = "TEMPLATE", help = name_help(),
          value_parser = checked::<NameTemplate>)]
    name: Option<String>,
    #[arg(long, help = help("dates"), default_value = default("dates"),
          value_parser = choice::<DateSource>())]
    dates: DateSource,
}

impl ConversionArgs {
    /// The flags as settings: the form the page sends and presets hold.
    fn settings(&self) -> Settings {
        let max = self.max.map(|px| px.to_string());
        Settings {
            format: self.to.info().id.into(),
            quality: self.quality,
            progressive: self.progressive,
            jpeg_effort: self.jpeg_effort,
            lossless: self.lossless,
            chroma: self.chroma,
            png_compression: self.png_compression,
            avif_speed: self.avif_speed,
            sizes: max.into_iter().chain(self.sizes.iter().cloned()).collect(),
            filter: self.filter,
            enlarge: self.enlarge,
            metadata: self.metadata,
            color: self.color,
            background: self.background.clone(),
            target_size: self.target_size.clone().unwrap_or_default(),
            visual_quality: self.visual_quality,
            name: self.name.clone().unwrap_or_default(),
            dates: self.dates,
        }
    }
}

/// What each file becomes and how its outputs are named and dated.
pub(crate) struct Conversion {
    pub(crate) job: Job,
    pub(crate) template: NameTemplate,
    pub(crate) dates: DateSource,
}

/// From `--preset`, or else from the options under [`CONVERSION`].
pub(crate) fn conversion(args: &Args, matches: &clap::ArgMatches) -> Result<Conversion, String> {
    let settings = match &args.preset {
        None => args.conversion.settings(),
        Some(name) => {
            // Mixing would leave it unclear which wins, and the same preset must give the
            // same bytes here and on the page.
            let command = Args::command();
            if let Some(given) = command.get_arguments().find(|arg| {
                arg.get_help_heading() == Some(CONVERSION)
                    && matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            }) {
                return Err(format!(
                    "--{} cannot be added to --preset, which sets the whole conversion: change \
                     the preset's JSON instead",
                    given.get_long().unwrap_or(given.get_id().as_str())
                ));
            }
            imgbatch::find_preset(name, |path| std::fs::read_to_string(path))
                .map_err(|e| e.message())?
                .settings
        }
    };
    let job = settings.job().map_err(|e| e.message())?;
    Ok(Conversion {
        template: settings
            .template(job.sizes.len())
            .map_err(|e| e.message())?,
        dates: settings.dates,
        job,
    })
}

static OPTIONS: LazyLock<Vec<OptionInfo>> = LazyLock::new(imgbatch::describe_options);

fn option(field: &str) -> &'static OptionInfo {
    OPTIONS
        .iter()
        .find(|o| o.field == field)
        .unwrap_or_else(|| panic!("the engine describes no option '{field}'"))
}

/// The engine's help for an option, with its range where it has one.
fn help(field: &str) -> String {
    let option = option(field);
    match option.kind {
        OptionKind::Number { min, max } => format!("{} {min}-{max}.", option.help),
        _ => option.help.to_string(),
    }
}

/// Every option's default in its text form, as clap takes them.
static DEFAULTS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    OPTIONS
        .iter()
        .map(|o| match &o.default {
            serde_json::Value::String(text) => (o.field, text.clone()),
            other => (o.field, other.to_string()),
        })
        .collect()
});

/// The engine's default for an option, in its text form.
fn default(field: &str) -> &'static str {
    DEFAULTS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("the engine describes no option '{field}'"))
}

/// A number option's range, from the engine.
fn in_range(field: &str) -> clap::builder::RangedI64ValueParser<u8> {
    let OptionKind::Number { min, max } = option(field).kind else {
        panic!("{field} is not a number option")
    };
    clap::value_parser!(u8).range(i64::from(min)..=i64::from(max))
}

/// A choice option's names (and old spellings), each with what it means.
fn choice<T: Choices + Clone + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let values = T::CHOICES.iter().map(|c| {
        PossibleValue::new(c.name)
            .help(c.label)
            .aliases(c.aliases.iter().copied())
    });
    PossibleValuesParser::new(values).try_map(|name| T::from_name(&name).map_err(|e| e.message()))
}

/// Text checked by the engine's parser now, so a typo fails before any file is read, and
/// passed on as text.
fn checked<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<String, String> {
    s.parse::<T>()
        .map(|_| s.to_string())
        .map_err(|e| e.message())
}

pub(crate) fn parse_engine<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<T, String> {
    s.parse::<T>().map_err(|e| e.message())
}

/// `--to` accepts what the engine's format table can write, by id or extension.
fn format_parser() -> impl TypedValueParser<Value = Format> {
    let values = imgbatch::encodable()
        .map(|f| PossibleValue::new(f.id).aliases(f.extensions.iter().copied()));
    PossibleValuesParser::new(values).map(|id| Format::from_name(&id).unwrap_or(Format::Jpeg))
}

/// The engine's named levels, so the help never disagrees with what it accepts.
fn visual_quality_help() -> String {
    let levels: Vec<String> = imgbatch::VisualQuality::LEVELS
        .iter()
        .map(|l| format!("{} ({}: {})", l.name, l.score, l.description))
        .collect();
    format!("{} Levels: {}.", help("visualQuality"), levels.join("; "))
}

/// The engine's template fields, so the help lists exactly what it accepts.
fn name_help() -> String {
    let fields: Vec<String> = imgbatch::NAME_FIELDS
        .iter()
        .map(|(field, meaning)| format!("{field}: {meaning}"))
        .collect();
    // Listed without braces: clap's help turns a literal "{n}" into a line break.
    format!(
        "{} Fields: {}. Default: {{stem}}.{{ext}}, or {{stem}}-{{size}}.{{ext}} when there \
         are several sizes.",
        help("name"),
        fields.join("; ")
    )
}
