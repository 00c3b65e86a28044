//! Field-level validation errors: every rule that fails is reported, each naming its field.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// One or more fields were refused. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} field(s) invalid: {}", .0.len(), self.fields().join(", "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }])
    }

    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was pushed.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Runs a parse, recording its error under `field` and answering `None` when it failed.
    pub fn collect<T>(&mut self, field: &str, outcome: Result<T, FieldProblem>) -> Option<T> {
        match outcome {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(field, problem.code, problem.message);
                None
            }
        }
    }
}

/// Why one value was refused, before it is known which field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub code: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Trimmed text of `min..=max` characters without control characters.
pub fn bounded_text(value: &str, min: usize, max: usize) -> Result<String, FieldProblem> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldProblem::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    if length < min {
        return Err(if min == 1 {
            FieldProblem::new("required", "must not be empty")
        } else {
            FieldProblem::new("too_short", format!("must be at least {min} characters"))
        });
    }
    if length > max {
        return Err(FieldProblem::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded_text("  Zoë  ", 1, 3), Ok("Zoë".to_owned()));
        assert_eq!(bounded_text("Zoëx", 1, 3).unwrap_err().code, "too_long");
        assert_eq!(bounded_text("   ", 1, 3).unwrap_err().code, "required");
        assert_eq!(bounded_text("a", 2, 3).unwrap_err().code, "too_short");
        assert_eq!(
            bounded_text("a\u{0}b", 1, 3).unwrap_err().code,
            "invalid_characters"
        );
    }

    #[test]
    fn errors_name_every_field() {
        let mut errors = ValidationErrors::default();
        errors.push("first_name", "required", "must not be empty");
        errors.push("email", "invalid", "not an email");
        assert_eq!(errors.fields(), ["first_name", "email"]);
        assert!(errors.into_result(()).is_err());
    }
}
