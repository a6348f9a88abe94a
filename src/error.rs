//! The errors a user sees: a kind, a message naming the file or resource, an optional hint,
//! and the cause chain (printed with `-v`).

use crate::model::InputError;

/// What went wrong, by what the user does about it (shown with `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The command line asks for something that cannot be done.
    Usage,
    /// An input file or a saved plan cannot be used.
    Input,
    /// AWS could not be reached or refused.
    Aws,
    /// A file could not be read or written, or output could not be written.
    Io,
    /// The plan no longer matches what it was made from.
    StalePlan,
    /// The user declined, or there was no terminal to ask on.
    NotConfirmed,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Usage => "usage",
            Kind::Input => "input",
            Kind::Aws => "aws",
            Kind::Io => "io",
            Kind::StalePlan => "stale plan",
            Kind::NotConfirmed => "not confirmed",
        }
    }
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A file that cannot be read or written: names it, and keeps the I/O error as the cause.
    pub fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> Self {
        Error::new(
            Kind::Io,
            format!(
                "cannot {what} `{}`: {}",
                path.display(),
                crate::input::files::io_reason(&e)
            ),
        )
        .caused_by(e)
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error {
            kind: Kind::Input,
            message: format!("`{}`: {}", e.resource, e.message),
            hint: e.hint,
            source: None,
        }
    }
}

impl From<std::io::Error> for Error {
    /// Output that could not be written (stdout, stderr).
    fn from(e: std::io::Error) -> Self {
        Error::new(Kind::Io, format!("cannot write output: {e}")).caused_by(e)
    }
}

impl Error {
    /// A closed pipe (`fargate-rtm plan | head`): not an error.
    pub fn is_broken_pipe(&self) -> bool {
        self.source
            .as_ref()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
