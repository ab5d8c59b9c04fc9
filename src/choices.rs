//! Options whose value is one of a few names (`--metadata strip-gps`, `"jpegEffort":
//! "balanced"`). Each such type lists its names and what each means once, in
//! [`Choices::CHOICES`]; parsing, display, serde, the CLI's possible values and the page's
//! pickers are all read from that list.

use serde::Serialize;

use crate::error::{Error, Result};

/// One allowed value: its name in every text form and what it means, in the words the CLI
/// help and the page's picker show.
#[derive(Debug, Serialize)]
pub struct Choice<T: 'static> {
    #[serde(skip)]
    pub value: T,
    pub name: &'static str,
    /// Older or looser spellings that are still read (`lanczos` for `lanczos3`).
    #[serde(skip)]
    pub aliases: &'static [&'static str],
    pub label: &'static str,
}

/// A choice without aliases.
pub(crate) const fn choice<T>(value: T, name: &'static str, label: &'static str) -> Choice<T> {
    Choice {
        value,
        name,
        aliases: &[],
        label,
    }
}

/// A type whose values are named choices.
pub trait Choices: Copy + PartialEq + Sized + 'static {
    /// What the option is, for messages: "JPEG effort".
    const WHAT: &'static str;
    const CHOICES: &'static [Choice<Self>];

    fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|c| c.value == self)
            .map_or("", |c| c.name)
    }

    /// Reads a name or alias, in any case.
    fn from_name(text: &str) -> Result<Self> {
        let wanted = text.trim().to_ascii_lowercase();
        Self::CHOICES
            .iter()
            .find(|c| c.name == wanted || c.aliases.contains(&wanted.as_str()))
            .map(|c| c.value)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::CHOICES.iter().map(|c| c.name).collect();
                Error::invalid_options(format!(
                    "unknown {} '{}' ({})",
                    Self::WHAT,
                    text.trim(),
                    names.join(", ")
                ))
            })
    }
}

/// `FromStr`, `Display`, `Serialize` and `Deserialize` for [`Choices`] types, all by name.
macro_rules! choice_text_forms {
    ($($t:ty),* $(,)?) => {$(
        impl std::str::FromStr for $t {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                <$t as $crate::choices::Choices>::from_name(s)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::choices::Choices::name(*self))
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str($crate::choices::Choices::name(*self))
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t as $crate::choices::Choices>::from_name(&text)
                    .map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    )*};
}
pub(crate) use choice_text_forms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::DateSource;
    use crate::options::{
        ChromaSubsampling, ColorPolicy, Filter, Fit, JpegPreset, MetadataPolicy, PngCompression,
    };

    fn round_trips<T>()
    where
        T: Choices + std::fmt::Debug + std::str::FromStr<Err = Error> + std::fmt::Display,
        T: Serialize + serde::de::DeserializeOwned,
    {
        assert!(!T::CHOICES.is_empty());
        for choice in T::CHOICES {
            assert_eq!(choice.value.to_string(), choice.name);
            assert_eq!(choice.name.parse::<T>().unwrap(), choice.value);
            assert_eq!(
                choice.name.to_uppercase().parse::<T>().unwrap(),
                choice.value
            );
            for alias in choice.aliases {
                assert_eq!(alias.parse::<T>().unwrap(), choice.value);
            }
            let json = serde_json::to_string(&choice.value).unwrap();
            assert_eq!(json, format!("\"{}\"", choice.name));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), choice.value);
            assert!(!choice.label.is_empty());
        }
        let e = "no-such-choice".parse::<T>().unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidOptions);
        assert!(e.message().contains(T::CHOICES[0].name), "{}", e.message());
    }

    #[test]
    fn every_choice_reads_back_from_its_name_in_every_text_form() {
        round_trips::<ChromaSubsampling>();
        round_trips::<JpegPreset>();
        round_trips::<PngCompression>();
        round_trips::<Filter>();
        round_trips::<MetadataPolicy>();
        round_trips::<Fit>();
        round_trips::<ColorPolicy>();
        round_trips::<DateSource>();
    }
}
