//! Presets: a label and a whole set of [`Settings`]. The page saves and exports its presets
//! in this form, and the CLI reads the same file with `--preset`, so one preset gives the
//! same bytes everywhere. The built-in presets are defined here, once.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::options::{ColorPolicy, MetadataPolicy};
use crate::settings::Settings;

/// A named set of settings, as saved, exported and imported: `{"label": ..., "settings":
/// {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub label: String,
    pub settings: Settings,
}

impl Preset {
    /// Reads a preset file and checks that its settings make a valid job.
    pub fn from_json(json: &str) -> Result<Preset> {
        let preset: Preset = serde_json::from_str(json)
            .map_err(|e| Error::invalid_options(format!("not an imgbatch preset: {e}")))?;
        if preset.label.trim().is_empty() {
            return Err(Error::invalid_options("a preset needs a label"));
        }
        preset.settings.job()?;
        Ok(preset)
    }
}

/// A preset that ships with imgbatch; `id` is its name for `--preset`.
#[derive(Clone, Debug, Serialize)]
pub struct BuiltInPreset {
    pub id: &'static str,
    /// What it promises, in a sentence, for the CLI help and the page.
    pub summary: &'static str,
    #[serde(flatten)]
    pub preset: Preset,
}

/// The presets for the common jobs. Web-bound ones convert to sRGB, as browsers and social
/// sites assume it; the archive keeps everything the photo had.
pub fn built_in_presets() -> Vec<BuiltInPreset> {
    let web = Settings {
        color: ColorPolicy::Srgb,
        ..Settings::default()
    };
    let preset = |id, label: &str, summary, settings| BuiltInPreset {
        id,
        summary,
        preset: Preset {
            label: label.into(),
            settings,
        },
    };
    vec![
        preset(
            "web-2048",
            "Web 2048 JPEG",
            "JPEG, long edge 2048 px, sRGB, private metadata removed",
            Settings {
                sizes: vec!["2048".into()],
                ..web.clone()
            },
        ),
        preset(
            "instagram-1080",
            "Instagram 1080",
            "JPEG quality 90, 1080 px wide, sRGB, private metadata removed",
            Settings {
                quality: 90,
                sizes: vec!["w1080".into()],
                ..web.clone()
            },
        ),
        preset(
            "email-1600",
            "Email 1600 / 500 KB",
            "JPEG, long edge 1600 px, at most 500 KB each, sRGB, private metadata removed",
            Settings {
                sizes: vec!["1600".into()],
                target_size: "500K".into(),
                ..web.clone()
            },
        ),
        preset(
            "archive",
            "Archive, lossless, metadata kept",
            "PNG at full size: exact pixels, 16-bit kept, colour profile and all metadata kept",
            Settings {
                format: "png".into(),
                metadata: MetadataPolicy::Keep,
                ..Settings::default()
            },
        ),
        preset(
            "thumbnails",
            "Thumbnails 2048+1024+320",
            "three JPEGs per photo: long edge 2048, 1024 and 320 px, sRGB, metadata removed",
            Settings {
                sizes: vec!["2048".into(), "1024".into(), "320".into()],
                ..web
            },
        ),
    ]
}

/// A built-in preset by id, or else a preset file by path. `read` reads the file, so this
/// stays free of file access.
pub fn find_preset(
    name: &str,
    read: impl FnOnce(&str) -> std::io::Result<String>,
) -> Result<Preset> {
    if let Some(found) = built_in_presets().into_iter().find(|p| p.id == name) {
        return Ok(found.preset);
    }
    let json = read(name).map_err(|e| {
        let ids: Vec<_> = built_in_presets().iter().map(|p| p.id).collect();
        Error::invalid_options(format!(
            "no preset '{name}': not a built-in one ({}) and not a readable file ({e})",
            ids.join(", ")
        ))
    })?;
    Preset::from_json(&json).map_err(|e| Error::invalid_options(format!("{name}: {}", e.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_preset_is_a_valid_job_with_a_unique_id() {
        let presets = built_in_presets();
        for p in &presets {
            p.preset.settings.job().unwrap();
            assert_eq!(
                presets.iter().filter(|q| q.id == p.id).count(),
                1,
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn a_preset_survives_its_own_json() {
        for p in built_in_presets() {
            let json = serde_json::to_string(&p.preset).unwrap();
            assert_eq!(Preset::from_json(&json).unwrap(), p.preset);
        }
    }

    #[test]
    fn a_misspelt_option_is_refused_not_ignored() {
        let err = Preset::from_json(r#"{"label":"x","settings":{"qualty":50}}"#).unwrap_err();
        assert_eq!(err.code(), "invalid-options");
    }

    #[test]
    fn an_unknown_name_lists_the_built_in_ones() {
        let err = find_preset("nope", |_| Err(std::io::ErrorKind::NotFound.into())).unwrap_err();
        assert!(err.message().contains("web-2048"), "{}", err.message());
    }
}
