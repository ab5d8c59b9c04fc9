//! `imgbatch-lambda`: the engine as an AWS Lambda function for S3 Batch Operations. Each
//! invocation brings tasks (one object each); each is converted with the preset the function
//! is configured with and written to the destination, and answered with a result code that
//! tells Batch Operations whether to retry. deploy/batch.yaml deploys it and
//! scripts/batch-convert runs a job with it.

mod config;
mod event;
mod s3;
mod task;

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};

use config::Config;
use event::{BatchEvent, BatchResponse};
use s3::S3;

fn main() -> ExitCode {
    // This same program, started by itself to decode one AV1 picture (see `isolate_av1`).
    if let Some(code) = imgbatch::serve_av1_worker_if_asked() {
        return code;
    }
    imgbatch::quiet_caught_panics();
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Lambda reports this as the function's init error, in its log.
            eprintln!("imgbatch-lambda: {message}");
            ExitCode::FAILURE
        }
    }
}

fn start() -> Result<(), String> {
    let config = Config::from_env()?;
    let s3 = S3::from_env()?;
    // A corrupt AVIF can abort rav1d; decoded in a child, it fails one task, not the function.
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to decode AVIF with: {e}"))?;
    imgbatch::isolate_av1(me).map_err(|e| e.message())?;
    let shared = Arc::new((config, s3));
    // One thread serves the runtime API; conversions run on rayon's pool, one per vCPU.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime
        .block_on(lambda_runtime::run(service_fn(
            move |invocation: LambdaEvent<BatchEvent>| {
                let shared = Arc::clone(&shared);
                async move {
                    let event = invocation.payload;
                    // Conversion blocks for seconds: off the thread that talks to Lambda.
                    tokio::task::spawn_blocking(move || {
                        let (config, s3) = &*shared;
                        let results = event
                            .tasks
                            .iter()
                            .map(|t| task::run(config, s3, t))
                            .collect();
                        BatchResponse::new(&event, results)
                    })
                    .await
                    .map_err(lambda_runtime::Error::from)
                }
            },
        )))
        .map_err(|e| format!("the Lambda runtime stopped: {e}"))
}
