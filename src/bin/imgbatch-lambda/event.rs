//! S3 Batch Operations' `LambdaInvoke` contract: the event one invocation brings (one task
//! per object) and the response it must return, with a result class for every task.
//! Schema 2.0 names the bucket (`s3Bucket`); 1.0 gives its ARN (`s3BucketArn`): both are read.

use imgbatch::ErrorKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEvent {
    pub invocation_schema_version: String,
    pub invocation_id: String,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    /// URL-encoded, as Batch Operations sends it: `my%20photo.jpg`.
    pub s3_key: String,
    #[serde(default)]
    pub s3_version_id: Option<String>,
    #[serde(default)]
    pub s3_bucket: Option<String>,
    #[serde(default)]
    pub s3_bucket_arn: Option<String>,
}

impl Task {
    /// The bucket's name, from either schema.
    pub fn bucket(&self) -> Option<&str> {
        self.s3_bucket.as_deref().or_else(|| {
            self.s3_bucket_arn
                .as_deref()
                .and_then(|arn| arn.strip_prefix("arn:aws:s3:::"))
        })
    }

    /// The object key as stored, its URL encoding undone. None when it is not valid UTF-8
    /// once decoded, which no S3 key can be.
    pub fn key(&self) -> Option<String> {
        percent_encoding::percent_decode_str(&self.s3_key)
            .decode_utf8()
            .ok()
            .map(|key| key.into_owned())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub invocation_schema_version: String,
    /// What Batch Operations records for a key that does not exist: it is not coming back.
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<TaskResult>,
}

impl BatchResponse {
    pub fn new(event: &BatchEvent, results: Vec<TaskResult>) -> BatchResponse {
        BatchResponse {
            invocation_schema_version: event.invocation_schema_version.clone(),
            treat_missing_keys_as: ResultCode::PermanentFailure,
            invocation_id: event.invocation_id.clone(),
            results,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

/// Batch Operations retries a `TemporaryFailure` and records the others as final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ResultCode {
    Succeeded,
    TemporaryFailure,
    PermanentFailure,
}

impl ResultCode {
    /// Whether retrying the same bytes could succeed. Only a failure of the environment can
    /// pass; what the file contains, or the job asks, gives the same answer every time.
    pub fn for_error(kind: ErrorKind) -> ResultCode {
        match kind {
            ErrorKind::Io | ErrorKind::Cancelled => ResultCode::TemporaryFailure,
            ErrorKind::Decode
            | ErrorKind::Encode
            | ErrorKind::Unsupported
            | ErrorKind::NotAnImage
            | ErrorKind::Limit
            | ErrorKind::InvalidOptions
            | ErrorKind::TargetSize
            | ErrorKind::Internal => ResultCode::PermanentFailure,
        }
    }
}

/// Completion reports are CSV rows read by people: a result string stays one readable line.
pub const RESULT_STRING_MAX: usize = 1000;

pub fn result_string(text: &str) -> String {
    let line = text.replace(['\n', '\r'], " ");
    match line.char_indices().nth(RESULT_STRING_MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_2_events_name_the_bucket_and_url_encode_the_key() {
        let event: BatchEvent = serde_json::from_str(
            r#"{"invocationSchemaVersion":"2.0","invocationId":"YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
                "job":{"id":"f3cc4f60-61f6-4a2b-8a21-d07600c373ce","userArguments":{"k1":"v1"}},
                "tasks":[{"taskId":"dGFza2lkZ29lc2hlcmUK","s3Key":"trip/caf%C3%A9%20terrace.jpg","s3VersionId":"1","s3Bucket":"amzn-s3-demo-bucket"}]}"#,
        )
        .unwrap();
        let task = &event.tasks[0];
        assert_eq!(task.bucket(), Some("amzn-s3-demo-bucket"));
        assert_eq!(task.key().as_deref(), Some("trip/café terrace.jpg"));
    }

    #[test]
    fn schema_1_events_give_the_bucket_as_an_arn() {
        let event: BatchEvent = serde_json::from_str(
            r#"{"invocationSchemaVersion":"1.0","invocationId":"x","job":{"id":"j"},
                "tasks":[{"taskId":"t","s3Key":"customerImage1.jpg","s3VersionId":null,"s3BucketArn":"arn:aws:s3:::amzn-s3-demo-bucket"}]}"#,
        )
        .unwrap();
        assert_eq!(event.tasks[0].bucket(), Some("amzn-s3-demo-bucket"));
    }

    #[test]
    fn the_response_has_the_documented_shape() {
        let event: BatchEvent = serde_json::from_str(
            r#"{"invocationSchemaVersion":"2.0","invocationId":"inv","job":{"id":"j"},"tasks":[]}"#,
        )
        .unwrap();
        let response = BatchResponse::new(
            &event,
            vec![TaskResult {
                task_id: "t".into(),
                result_code: ResultCode::TemporaryFailure,
                result_string: "slow down".into(),
            }],
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({
                "invocationSchemaVersion": "2.0",
                "treatMissingKeysAs": "PermanentFailure",
                "invocationId": "inv",
                "results": [{"taskId": "t", "resultCode": "TemporaryFailure", "resultString": "slow down"}]
            })
        );
    }

    #[test]
    fn result_strings_are_one_bounded_line() {
        assert_eq!(result_string("a\nb"), "a b");
        let long = "é".repeat(RESULT_STRING_MAX + 5);
        assert_eq!(result_string(&long).chars().count(), RESULT_STRING_MAX + 1);
    }
}
