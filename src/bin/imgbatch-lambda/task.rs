//! One Batch Operations task: one source object in, its outputs written beside each other in
//! the destination, named as the CLI names them. Safe to run again: outputs that exist are
//! neither made again nor replaced (unless the function is told to overwrite).

use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use imgbatch::{BatchOptions, CancelToken, DateTime, Event, NameInput, NameOutput, ResizeSpec};

use crate::config::Config;
use crate::event::{ResultCode, Task, TaskResult, result_string};
use crate::s3::{Put, S3, S3Error, Written};

/// The source's bytes, already fetched, handed to the engine's scheduler once.
struct Fetched {
    name: String,
    bytes: Mutex<Option<Vec<u8>>>,
    wanted: Vec<bool>,
}

impl imgbatch::Source for Fetched {
    fn name(&self) -> &str {
        &self.name
    }
    fn read(&self) -> imgbatch::Result<Vec<u8>> {
        self.bytes
            .lock()
            .ok()
            .and_then(|mut bytes| bytes.take())
            .ok_or_else(|| imgbatch::Error::internal("the source was read twice"))
    }
    fn wanted(&self, _: &[ResizeSpec]) -> Vec<bool> {
        self.wanted.clone()
    }
}

pub fn run(config: &Config, s3: &S3, task: &Task) -> TaskResult {
    let (result_code, text) = match convert(config, s3, task) {
        Ok(text) => (ResultCode::Succeeded, text),
        Err((code, text)) => (code, text),
    };
    TaskResult {
        task_id: task.task_id.clone(),
        result_code,
        result_string: result_string(&text),
    }
}

type Failure = (ResultCode, String);

/// Result strings start with a stable code, the engine's own where it has one.
fn from_s3(error: S3Error) -> Failure {
    let (code, kind) = match error {
        S3Error::Transient(_) => (ResultCode::TemporaryFailure, "s3-unavailable"),
        S3Error::Missing(_) => (ResultCode::PermanentFailure, "missing"),
        S3Error::Refused(_) => (ResultCode::PermanentFailure, "s3-refused"),
        S3Error::TooLarge(_) => (ResultCode::PermanentFailure, "limit"),
    };
    (code, format!("{kind}: {}", error.message()))
}

fn from_engine(error: imgbatch::Error) -> Failure {
    (
        ResultCode::for_error(error.kind()),
        format!("{}: {}", error.code(), error.message()),
    )
}

fn convert(config: &Config, s3: &S3, task: &Task) -> Result<String, Failure> {
    let permanent = |text: String| (ResultCode::PermanentFailure, text);
    let bucket = task
        .bucket()
        .ok_or_else(|| permanent("invalid-task: the task names no bucket".into()))?;
    let key = task
        .key()
        .ok_or_else(|| permanent(format!("invalid-task: key {} is not UTF-8", task.s3_key)))?;
    let relative = key.strip_prefix(&config.source_prefix).unwrap_or(&key);
    let relative = relative.trim_start_matches('/');
    let job = &config.job;
    let dest_key = |name: &str| format!("{}{name}", config.dest_prefix);
    let dest_url = |key: &str| format!("s3://{}/{key}", config.dest_bucket);
    let naming = |file_date: DateTime| NameInput {
        path: relative,
        number: 1,
        file_date,
        format: job.format,
    };

    // Outputs whose names are known before decoding, and exist, are not made again: a
    // retried task redoes only what its last attempt did not finish.
    let sizes = job.output_sizes();
    let mut existing = Vec::new();
    let mut wanted = vec![true; sizes.len()];
    if !config.overwrite && config.template.known_before_decoding() {
        for (i, spec) in sizes.iter().enumerate() {
            let input = naming(DateTime::from_unix_seconds(0));
            let Some(name) = config.template.render(&input, &spec.label(), None) else {
                continue;
            };
            let out = dest_key(&name);
            if s3.exists(&config.dest_bucket, &out).map_err(from_s3)? {
                wanted[i] = false;
                existing.push(dest_url(&out));
            }
        }
    }
    if wanted.iter().all(|w| !w) {
        return Ok(format!("exists: {}", existing.join(", ")));
    }

    let object = s3
        .get(
            bucket,
            &key,
            task.s3_version_id.as_deref(),
            job.limits.max_input_bytes,
        )
        .map_err(from_s3)?;
    let file_date = DateTime::from_unix_seconds(
        object
            .last_modified
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64),
    );
    let source = Fetched {
        name: key.clone(),
        bytes: Mutex::new(Some(object.bytes)),
        wanted,
    };
    let result = Mutex::new(None);
    let options = BatchOptions {
        concurrency: 1,
        memory_budget: config.memory_budget,
    };
    imgbatch::run_batch(
        std::slice::from_ref(&source),
        job,
        &options,
        &CancelToken::new(),
        &|event| {
            if let Event::Finished(finished) = event
                && let Ok(mut slot) = result.lock()
            {
                *slot = Some(finished.outcome);
            }
        },
    )
    .map_err(from_engine)?;
    let outputs = result
        .into_inner()
        .ok()
        .flatten()
        .ok_or_else(|| permanent("internal: the engine gave no result".into()))?
        .map_err(from_engine)?;

    let mut written = Vec::new();
    for output in &outputs {
        let made = NameOutput {
            width: output.width,
            height: output.height,
            captured: output.captured,
        };
        let name = config
            .template
            .render(&naming(file_date), &output.label, Some(&made))
            .ok_or_else(|| permanent("internal: an output has no name".into()))?;
        let out = dest_key(&name);
        let put = Put {
            content_type: output.format.info().mime,
            cache_control: &config.cache_control,
            overwrite: config.overwrite,
        };
        match s3
            .put(&config.dest_bucket, &out, &output.bytes, &put)
            .map_err(from_s3)?
        {
            Written::New => written.push(dest_url(&out)),
            Written::Existed => existing.push(dest_url(&out)),
        }
    }
    let mut text = format!("converted: {}", written.join(", "));
    if !existing.is_empty() {
        text.push_str(&format!("; exists: {}", existing.join(", ")));
    }
    Ok(text)
}
