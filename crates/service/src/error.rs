//! Errors of the node's operations, shared by the CLI (message, exit 1) and the HTTP API
//! (message, status code).

use std::fmt;

/// What kind of failure, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong: 400.
    BadInput,
    /// An id names nothing known here: 404.
    NotFound,
    /// A rule of the plan forbids it (a conflicting confirm, not the owner): 409.
    Conflict,
    /// Anything else: 500.
    Internal,
}

/// A failed operation with a message a person understands.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> ApiError {
        ApiError { kind: ErrorKind::BadInput, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { kind: ErrorKind::NotFound, message: message.into() }
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError { kind: ErrorKind::Conflict, message: message.into() }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { kind: ErrorKind::Internal, message: message.into() }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        match e {
            store::StoreError::Rejected { .. } => ApiError::bad_input(e.to_string()),
            store::StoreError::UnknownFestival(_) => ApiError::not_found(e.to_string()),
            _ => ApiError::internal(e.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
