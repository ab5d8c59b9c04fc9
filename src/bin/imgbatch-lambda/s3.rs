//! The three S3 calls the function makes (GetObject, HeadObject, PutObject), signed with the
//! function's own credentials, and every failure sorted into whether a retry can help.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use ureq::http::Response;
use url::Url;

/// How long a signed request stays valid: it is sent at once, so only clock skew matters.
const SIGNED_FOR: Duration = Duration::from_secs(300);

pub struct S3 {
    endpoint: Url,
    style: UrlStyle,
    region: String,
    credentials: Credentials,
    agent: ureq::Agent,
}

/// Why an S3 call failed, by what Batch Operations should do about it.
#[derive(Debug)]
pub enum S3Error {
    /// The key (or bucket) does not exist: final.
    Missing(String),
    /// Throttling, a server error, a dropped connection: worth a retry.
    Transient(String),
    /// Refused (access denied, a bad request): the same call would be refused again.
    Refused(String),
    /// The object is larger than the function may read.
    TooLarge(String),
}

impl S3Error {
    pub fn message(&self) -> &str {
        match self {
            S3Error::Missing(m)
            | S3Error::Transient(m)
            | S3Error::Refused(m)
            | S3Error::TooLarge(m) => m,
        }
    }
}

pub struct Object {
    pub bytes: Vec<u8>,
    pub last_modified: Option<SystemTime>,
}

/// What a write without overwrite found.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    New,
    /// The key already held an object, which was left alone.
    Existed,
}

pub struct Put<'a> {
    pub content_type: &'a str,
    pub cache_control: &'a str,
    pub overwrite: bool,
}

impl S3 {
    /// From the Lambda environment: its region and credentials, and the endpoint the AWS
    /// SDKs would use (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` point it elsewhere, such
    /// as a local S3 for tests; those get path-style URLs).
    pub fn from_env() -> Result<S3, String> {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .map_err(|_| "AWS_REGION is not set".to_string())?;
        let custom = std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok();
        let (endpoint, style) = match &custom {
            Some(url) => (url.clone(), UrlStyle::Path),
            None => (
                format!("https://s3.{region}.amazonaws.com"),
                UrlStyle::VirtualHost,
            ),
        };
        let endpoint = endpoint
            .parse()
            .map_err(|e| format!("the S3 endpoint {endpoint} is not a URL: {e}"))?;
        let credentials = Credentials::from_env()
            .ok_or("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")?;
        // ring, for a pure cargo build: aws-lc-rs would add post-quantum key exchange, at the
        // price of a C toolchain step and the OpenSSL licence. rustls 0.23.48 deprecates
        // ring's provider for that reason alone.
        #[allow(deprecated)]
        let crypto = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .unversioned_rustls_crypto_provider(crypto)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            // Statuses are sorted below, not turned into transport errors.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        Ok(S3 {
            endpoint,
            style,
            region,
            credentials,
            agent,
        })
    }

    fn bucket(&self, name: &str) -> Result<Bucket, S3Error> {
        Bucket::new(
            self.endpoint.clone(),
            self.style,
            name.to_string(),
            self.region.clone(),
        )
        .map_err(|e| S3Error::Refused(format!("bucket {name}: {e}")))
    }

    /// The object's bytes, refused before download when it is larger than `max_bytes`.
    pub fn get(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        max_bytes: u64,
    ) -> Result<Object, S3Error> {
        let b = self.bucket(bucket)?;
        let mut action = b.get_object(Some(&self.credentials), key);
        if let Some(version) = version {
            action.query_mut().insert("versionId", version);
        }
        let what = format!("s3://{bucket}/{key}");
        let mut response = self
            .agent
            .get(action.sign(SIGNED_FOR).as_str())
            .call()
            .map_err(|e| transport(&what, e))?;
        check_status(&what, &mut response)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let last_modified =
            header("last-modified").and_then(|d| httpdate::parse_http_date(&d).ok());
        if let Some(length) = header("content-length").and_then(|l| l.parse::<u64>().ok())
            && length > max_bytes
        {
            return Err(S3Error::TooLarge(format!(
                "{what} is {length} bytes, over the {max_bytes}-byte limit"
            )));
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(max_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    S3Error::TooLarge(format!("{what} is over the {max_bytes}-byte limit"))
                }
                e => transport(&what, e),
            })?;
        Ok(Object {
            bytes,
            last_modified,
        })
    }

    pub fn exists(&self, bucket: &str, key: &str) -> Result<bool, S3Error> {
        let b = self.bucket(bucket)?;
        let action = b.head_object(Some(&self.credentials), key);
        let what = format!("s3://{bucket}/{key}");
        let mut response = self
            .agent
            .head(action.sign(SIGNED_FOR).as_str())
            .call()
            .map_err(|e| transport(&what, e))?;
        match check_status(&what, &mut response) {
            Ok(()) => Ok(true),
            Err(S3Error::Missing(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` to the key. Without `overwrite` the write is conditional
    /// (`If-None-Match: *`), so two attempts racing on one key cannot replace each other.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        put: &Put,
    ) -> Result<Written, S3Error> {
        let b = self.bucket(bucket)?;
        let mut action = b.put_object(Some(&self.credentials), key);
        let headers = action.headers_mut();
        headers.insert("content-type", put.content_type.to_string());
        headers.insert("cache-control", put.cache_control.to_string());
        if !put.overwrite {
            headers.insert("if-none-match", "*");
        }
        let what = format!("s3://{bucket}/{key}");
        let mut request = self
            .agent
            .put(action.sign(SIGNED_FOR).as_str())
            .header("content-type", put.content_type)
            .header("cache-control", put.cache_control);
        if !put.overwrite {
            request = request.header("if-none-match", "*");
        }
        let mut response = request.send(bytes).map_err(|e| transport(&what, e))?;
        // 412: the key exists. 409: a conditional write raced another one on the same key.
        if !put.overwrite && matches!(response.status().as_u16(), 409 | 412) {
            return Ok(Written::Existed);
        }
        check_status(&what, &mut response).map(|()| Written::New)
    }
}

fn transport(what: &str, error: ureq::Error) -> S3Error {
    S3Error::Transient(format!("{what}: {error}"))
}

/// Sorts a response by its status, naming S3's own error code from the body when it has one.
fn check_status(what: &str, response: &mut Response<ureq::Body>) -> Result<(), S3Error> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 10)
        .read_to_string()
        .unwrap_or_default();
    let code = tag(&body, "Code").unwrap_or(match status {
        404 => "NotFound",
        403 => "AccessDenied",
        _ => "",
    });
    let message = format!("{what}: HTTP {status} {code}")
        .trim_end()
        .to_string();
    Err(match status {
        404 => S3Error::Missing(message),
        408 | 429 | 500..=599 => S3Error::Transient(message),
        _ if code == "SlowDown" || code == "RequestTimeout" => S3Error::Transient(message),
        _ => S3Error::Refused(message),
    })
}

/// The text of the first `<name>` element of S3's XML error body.
fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..end])
}
