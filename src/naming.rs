//! Output names, the same in the CLI and the page: one template language, and two policies for
//! two inputs that would get the same name. The CLI refuses the second (a script would rather
//! fail than write `photo (2).jpg` nobody asked for); the page numbers it, because a ZIP or a
//! folder save has no one to ask.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::choices::{Choice, Choices, choice, choice_text_forms};
use crate::error::{Error, Result};
use crate::format::Format;

/// A moment to the second, as EXIF writes it: wall-clock time with no zone. File dates are
/// read in UTC, so a name never depends on the zone of the machine that converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl DateTime {
    /// EXIF's `YYYY:MM:DD HH:MM:SS` (a NUL may follow). None for the blank dates cameras write
    /// when their clock was never set, and for anything that is not a real date.
    pub fn from_exif(text: &[u8]) -> Option<DateTime> {
        DateTime::parse(text.get(..19)?, *b"::  ::")
    }

    /// `text` as 19 characters of digits with `separators` at 4, 7, 10, 13 and 16 (the
    /// third one twice, so the array's shape is EXIF's and ISO's alike).
    fn parse(text: &[u8], separators: [u8; 6]) -> Option<DateTime> {
        let text = std::str::from_utf8(text).ok().filter(|t| t.len() == 19)?;
        let number = |range: std::ops::Range<usize>| {
            let digits = text.get(range)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<u16>().ok()
        };
        let at = [4, 7, 10, 10, 13, 16];
        if at
            .iter()
            .zip(separators)
            .any(|(&i, c)| text.as_bytes()[i] != c)
        {
            return None;
        }
        let date = DateTime {
            year: number(0..4)?,
            month: number(5..7)? as u8,
            day: number(8..10)? as u8,
            hour: number(11..13)? as u8,
            minute: number(14..16)? as u8,
            second: number(17..19)? as u8,
        };
        // A date that survives the round trip through a day count is on the calendar.
        (date.year > 0
            && (1..=12).contains(&date.month)
            && date.hour < 24
            && date.minute < 60
            && date.second < 60
            && DateTime::from_unix_seconds(date.unix_seconds()) == date)
            .then_some(date)
    }

    /// The UTC calendar date of a Unix time (Howard Hinnant's `civil_from_days`).
    pub fn from_unix_seconds(seconds: i64) -> DateTime {
        let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (year_of_era + era * 400 + i64::from(month <= 2)).clamp(0, 9999) as u16;
        DateTime {
            year,
            month,
            day,
            hour: (second_of_day / 3600) as u8,
            minute: (second_of_day / 60 % 60) as u8,
            second: (second_of_day % 60) as u8,
        }
    }

    /// Seconds since 1970 with this wall-clock time read as UTC (`days_from_civil`).
    pub fn unix_seconds(&self) -> i64 {
        let (month, day) = (i64::from(self.month), i64::from(self.day));
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Hyphens, not colons: Windows and macOS Finder refuse `:` in file names.
    fn time(&self) -> String {
        format!("{:02}-{:02}-{:02}", self.hour, self.minute, self.second)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date(),
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// The form [`Display`](fmt::Display) writes: `2024-07-14T18:05:09`.
impl FromStr for DateTime {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DateTime::parse(s.as_bytes(), *b"--TT::")
            .ok_or_else(|| Error::invalid_options(format!("'{s}' is not a date and time")))
    }
}

impl Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Which date an output carries as its file date (the CLI's mtime, the ZIP entry's date).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateSource {
    /// The input file's modification time, as a copy would keep it.
    #[default]
    File,
    /// When the photo was taken (EXIF DateTimeOriginal), or the file's time without one.
    Capture,
}

impl DateSource {
    /// The date an output gets, from its input file's date and its capture date.
    pub fn pick(self, file: DateTime, captured: Option<DateTime>) -> DateTime {
        match (self, captured) {
            (DateSource::Capture, Some(taken)) => taken,
            _ => file,
        }
    }
}

impl Choices for DateSource {
    const WHAT: &'static str = "date source";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(DateSource::File, "file", "As the originals"),
        choice(DateSource::Capture, "capture", "When each photo was taken"),
    ];
}

choice_text_forms!(DateSource);

/// One field of a name template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Stem,
    Ext,
    Width,
    Height,
    Size,
    Date,
    Time,
    DateTime,
    Number,
}

/// Every field, its spelling and what it gives: the CLI help and the README come from here.
pub const NAME_FIELDS: [(&str, &str); 9] = [
    ("stem", "the input's name without its extension"),
    ("ext", "the output format's extension"),
    ("w", "the output's width in pixels"),
    ("h", "the output's height in pixels"),
    ("size", "the size's label: 2048, 800x600-cover, orig"),
    (
        "date",
        "the capture date (EXIF DateTimeOriginal, else the file's date in UTC): 2024-07-14",
    ),
    ("time", "the capture time, likewise: 18-05-09"),
    ("datetime", "both: 2024-07-14_18-05-09"),
    (
        "n",
        "the file's position in the batch, from 1, at least 4 digits: 0001",
    ),
];

const FIELD_ORDER: [Field; 9] = [
    Field::Stem,
    Field::Ext,
    Field::Width,
    Field::Height,
    Field::Size,
    Field::Date,
    Field::Time,
    Field::DateTime,
    Field::Number,
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A name template (`{stem}-{size}.{ext}`), checked once, before any file is converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameTemplate {
    text: String,
    parts: Vec<Part>,
}

impl NameTemplate {
    /// The default: `{stem}.{ext}`, with `-{size}` when each input gets several sizes.
    pub fn for_sizes(count: usize) -> NameTemplate {
        let text = if count > 1 {
            "{stem}-{size}.{ext}"
        } else {
            "{stem}.{ext}"
        };
        text.parse().expect("the default templates are valid")
    }

    /// Whether a name can be known from the input alone, before it is decoded: not when it
    /// needs the output's size or the photo's capture date.
    pub fn known_before_decoding(&self) -> bool {
        !self.parts.iter().any(|part| {
            matches!(
                part,
                Part::Field(
                    Field::Width | Field::Height | Field::Date | Field::Time | Field::DateTime
                )
            )
        })
    }

    /// Whether names count the inputs (`{n}`), which needs one process to see the whole
    /// batch in order.
    pub fn numbers_inputs(&self) -> bool {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::Field(Field::Number)))
    }

    /// The output's path relative to the output folder, `/`-separated, under the input's own
    /// folder. None when the template needs what only decoding tells (`output` is None).
    pub fn render(
        &self,
        input: &NameInput,
        label: &str,
        output: Option<&NameOutput>,
    ) -> Option<String> {
        let (folder, file) = input.path.rsplit_once('/').unwrap_or(("", input.path));
        let stem = match file.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem,
            _ => file,
        };
        let mut name = String::new();
        if !folder.is_empty() {
            name.push_str(folder);
            name.push('/');
        }
        for part in &self.parts {
            let when = || output.map(|o| o.captured.unwrap_or(input.file_date));
            match part {
                Part::Text(text) => name.push_str(text),
                Part::Field(Field::Stem) => name.push_str(stem),
                Part::Field(Field::Ext) => name.push_str(input.format.info().extension()),
                Part::Field(Field::Size) => name.push_str(label),
                Part::Field(Field::Width) => name.push_str(&output?.width.to_string()),
                Part::Field(Field::Height) => name.push_str(&output?.height.to_string()),
                Part::Field(Field::Date) => name.push_str(&when()?.date()),
                Part::Field(Field::Time) => name.push_str(&when()?.time()),
                Part::Field(Field::DateTime) => {
                    let when = when()?;
                    name.push_str(&format!("{}_{}", when.date(), when.time()));
                }
                Part::Field(Field::Number) => name.push_str(&format!("{:04}", input.number)),
            }
        }
        Some(name)
    }
}

impl Default for NameTemplate {
    fn default() -> Self {
        NameTemplate::for_sizes(1)
    }
}

impl FromStr for NameTemplate {
    type Err = Error;

    fn from_str(text: &str) -> Result<NameTemplate> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].into()));
            }
            let close = rest[open..].find('}').ok_or_else(|| {
                Error::invalid_options(format!("unclosed '{{' in name template '{text}'"))
            })?;
            let name = &rest[open + 1..open + close];
            let field = NAME_FIELDS
                .iter()
                .position(|(known, _)| *known == name)
                .map(|i| FIELD_ORDER[i])
                .ok_or_else(|| {
                    let known: Vec<String> = NAME_FIELDS
                        .iter()
                        .map(|(f, _)| format!("{{{f}}}"))
                        .collect();
                    Error::invalid_options(format!(
                        "unknown field {{{name}}} in name template (use {})",
                        known.join(" ")
                    ))
                })?;
            parts.push(Part::Field(field));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.into()));
        }
        // Names go below the output folder: no absolute paths, no `..`, no empty file name.
        let components: Vec<&str> = text.split(['/', '\\']).collect();
        if text.is_empty()
            || components.first() == Some(&"")
            || components.last() == Some(&"")
            || components.iter().any(|c| *c == "." || *c == "..")
        {
            return Err(Error::invalid_options(format!(
                "name template '{text}' must name a file inside the output folder"
            )));
        }
        Ok(NameTemplate {
            text: text.into(),
            parts,
        })
    }
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for NameTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a name can say about the input: known before it is read.
pub struct NameInput<'a> {
    /// The input's path below what the user chose, `/`-separated: `trip/IMG_0001.HEIC`.
    pub path: &'a str,
    /// Its position in the batch, from 1.
    pub number: usize,
    /// The file's modification time (UTC), the date fields' fallback.
    pub file_date: DateTime,
    /// The output format, for `{ext}`.
    pub format: Format,
}

/// What a name can say about one output: known once it is made.
pub struct NameOutput {
    pub width: u32,
    pub height: u32,
    /// When the photo was taken, from its EXIF.
    pub captured: Option<DateTime>,
}

/// What happens when an output would take a name an earlier one in the batch has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collision {
    /// The later output fails with `invalid-options`: the CLI's policy.
    Refuse,
    /// The later output becomes `photo (2).jpg`: the page's policy.
    Number,
}

/// The names a batch has handed out, and its collision policy.
pub struct Names {
    policy: Collision,
    taken: HashSet<String>,
}

impl Names {
    pub fn new(policy: Collision) -> Names {
        Names {
            policy,
            taken: HashSet::new(),
        }
    }

    /// Takes `name` for one output, or under [`Collision::Number`] the first free numbered
    /// variant of it.
    pub fn claim(&mut self, name: String) -> Result<String> {
        if self.taken.insert(name.clone()) {
            return Ok(name);
        }
        match self.policy {
            Collision::Refuse => Err(Error::invalid_options(format!(
                "{name} was already written by another input; add {{ext}} or {{size}} to the name template"
            ))),
            Collision::Number => Ok((2..)
                .map(|n| numbered(&name, n))
                .find(|candidate| self.taken.insert(candidate.clone()))
                .expect("a free number exists")),
        }
    }
}

/// `dir/photo.jpg` as `dir/photo (n).jpg`: the number goes before the extension.
pub fn numbered(name: &str, n: usize) -> String {
    numbered_as(name, &n.to_string())
}

/// [`numbered`] with any text for the number: the page gets the shape once, with a marker,
/// and fills in numbers itself.
pub fn numbered_as(name: &str, number: &str) -> String {
    let file_start = name.rfind('/').map_or(0, |i| i + 1);
    match name[file_start..].rfind('.') {
        Some(dot) if dot > 0 => {
            let dot = file_start + dot;
            format!("{} ({number}){}", &name[..dot], &name[dot..])
        }
        _ => format!("{name} ({number})"),
    }
}

#[cfg(test)]
mod tests;
