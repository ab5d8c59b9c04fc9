//! The function's configuration, read once from its environment (deploy/batch.yaml sets it):
//! the conversion is a preset, as `imgbatch --preset` takes it, so a job converts in the
//! bucket exactly as it does on the command line and the page.

use imgbatch::{Job, NameTemplate};

pub struct Config {
    pub job: Job,
    pub template: NameTemplate,
    /// Stripped from source keys before naming, as the CLI names outputs below the folder given.
    pub source_prefix: String,
    pub dest_bucket: String,
    pub dest_prefix: String,
    pub overwrite: bool,
    pub cache_control: String,
    /// Bytes one conversion may use: most of the function's memory.
    pub memory_budget: u64,
}

/// What the function's own runtime and the S3 buffers keep of its memory.
const MEMORY_SHARE: (u64, u64) = (3, 4);

const DEFAULT_CACHE_CONTROL: &str = "public, max-age=31536000";

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let preset = var("IMGBATCH_PRESET").ok_or(
            "IMGBATCH_PRESET is not set: give a built-in preset's id or a preset file's JSON",
        )?;
        // A built-in id, or else the preset's JSON itself: a function has no files to read.
        let preset = imgbatch::find_preset(&preset, |text| {
            if text.trim_start().starts_with('{') {
                Ok(text.to_string())
            } else {
                Err(std::io::Error::other("not JSON"))
            }
        })
        .map_err(|e| format!("IMGBATCH_PRESET: {}", e.message()))?;
        let mut job = preset.settings.job().map_err(|e| e.message())?;
        let template = preset
            .settings
            .template(job.sizes.len())
            .map_err(|e| e.message())?;
        if template.numbers_inputs() {
            return Err(
                "the preset's name template counts inputs ({n}), but each object \
                        converts on its own here: use {stem} instead"
                    .into(),
            );
        }
        let dest = var("IMGBATCH_DEST").ok_or("IMGBATCH_DEST is not set: s3://bucket/prefix")?;
        let (dest_bucket, dest_prefix) = dest
            .strip_prefix("s3://")
            .map(|rest| rest.split_once('/').unwrap_or((rest, "")))
            .filter(|(bucket, _)| !bucket.is_empty())
            .ok_or(format!("IMGBATCH_DEST is {dest}, not s3://bucket/prefix"))?;
        let memory_mb: u64 = var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .ok_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set")?
            .parse()
            .map_err(|e| format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE: {e}"))?;
        let memory_budget = (memory_mb << 20) / MEMORY_SHARE.1 * MEMORY_SHARE.0;
        // Admitted against this function's memory, not a desktop's: an image that would not
        // fit fails with `limit` before its pixels are allocated, instead of killing the
        // function (which Batch Operations would retry, to the same end).
        job.limits.max_memory = job.limits.max_memory.min(memory_budget);
        job.limits.max_input_bytes = job.limits.max_input_bytes.min(memory_budget);
        let overwrite = match var("IMGBATCH_OVERWRITE").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(format!("IMGBATCH_OVERWRITE is {other}, not true or false")),
        };
        Ok(Config {
            job,
            template,
            source_prefix: var("IMGBATCH_SOURCE_PREFIX").unwrap_or_default(),
            dest_bucket: dest_bucket.to_string(),
            dest_prefix: dest_prefix.to_string(),
            overwrite,
            cache_control: var("IMGBATCH_CACHE_CONTROL")
                .unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_string()),
            memory_budget,
        })
    }
}
