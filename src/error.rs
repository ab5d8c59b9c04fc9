//! Errors sorted by whose fault they are, each with a stable code for the UI and `--json`.

use std::fmt;

/// What went wrong, by fault. The string codes are part of the public interface:
/// the CLI's `--json`, the web page and scripts match on them, so they never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The input claims a format we read, but its bytes are broken or truncated.
    Decode,
    /// The encoder refused or failed on pixels we gave it.
    Encode,
    /// A format or a feature of a format this build cannot read or write.
    Unsupported,
    /// The bytes are no image format at all (a text file, a document). Adapters skip such
    /// a file when its name does not claim an image either, and fail it when it does.
    NotAnImage,
    /// The input exceeds a configured limit (size, pixels, memory); refused before decoding.
    Limit,
    /// The job itself is contradictory or out of range.
    InvalidOptions,
    /// The output cannot be made as small as the requested file size, even at the lowest
    /// quality.
    TargetSize,
    /// Reading the input or writing the output failed (file system, browser file API).
    Io,
    /// The batch was cancelled before this file finished.
    Cancelled,
    /// A bug in imgbatch or a library it uses (a caught panic, an impossible state).
    Internal,
}

impl ErrorKind {
    /// All kinds, in a fixed order (for reports and tests).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Decode,
        ErrorKind::Encode,
        ErrorKind::Unsupported,
        ErrorKind::NotAnImage,
        ErrorKind::Limit,
        ErrorKind::InvalidOptions,
        ErrorKind::TargetSize,
        ErrorKind::Io,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The stable string code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Decode => "decode",
            ErrorKind::Encode => "encode",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotAnImage => "not-an-image",
            ErrorKind::Limit => "limit",
            ErrorKind::InvalidOptions => "invalid-options",
            ErrorKind::TargetSize => "target-size",
            ErrorKind::Io => "io",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error with its fault, a message that names the reason, and the underlying cause.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the library error that caused this one; its text is appended to the message.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }
    pub fn encode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Encode, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn not_an_image() -> Self {
        Self::new(ErrorKind::NotAnImage, "not a recognised image format")
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Limit, message)
    }
    pub fn invalid_options(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidOptions, message)
    }
    pub fn target_size(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TargetSize, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "cancelled before it finished")
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable code of [`ErrorKind`].
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message with its cause, e.g. "cannot decode JPEG: unexpected end of file".
    pub fn message(&self) -> String {
        match &self.source {
            Some(source) => format!("{}: {}", self.message, source),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.kind.code())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Sorts an image-rs error by fault. A limit error inside a decoder is still a limit, and an
/// "unsupported" one (say, an unusual TIFF compression) is ours to report as such, not as
/// a broken file.
pub(crate) fn from_image(context: &str, err: image::ImageError) -> Error {
    use image::ImageError as E;
    let kind = match &err {
        E::Limits(_) => ErrorKind::Limit,
        E::Unsupported(_) => ErrorKind::Unsupported,
        E::Parameter(_) => ErrorKind::InvalidOptions,
        E::Encoding(_) => ErrorKind::Encode,
        E::Decoding(_) | E::IoError(_) => ErrorKind::Decode,
    };
    Error::new(kind, context).with_source(err)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `work`, catching a panic as its message. While it runs, the hook that
/// [`quiet_caught_panics`] installs stays silent on this thread: the caller reports the
/// panic itself, with the file's name.
pub(crate) fn catch_panic<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    CATCHING.with(|depth| depth.set(depth.get() + 1));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    CATCHING.with(|depth| depth.set(depth.get() - 1));
    caught.map_err(|payload| panic_message(payload.as_ref()))
}

thread_local! {
    /// How many [`catch_panic`] calls are running on this thread.
    static CATCHING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Silences the panic hook for panics that imgbatch catches and reports as a file's error
/// (a decoder's, or anything `run_batch` guards), so stderr does not repeat them with a
/// backtrace note and without the file's name. Every other panic prints as usual. For
/// programs (the CLI, the Lambda function); a library leaves the hook to them.
pub fn quiet_caught_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if CATCHING.with(|depth| depth.get()) == 0 {
            default(info);
        }
    }));
}

/// The text a panic carries (`panic!("...")` or a formatted message), for reports.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
