//! Notes on orders (Bandwidth's `/orders/{id}/notes`): short texts an account attaches to one of
//! its orders. Ids are numeric, handed out by the database.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, FieldErrors};
use crate::ids::{AccountId, OrderId};

pub const NOTE_MAX_CHARS: usize = 500;
pub const NOTE_USER_MAX_CHARS: usize = 100;

/// A note as submitted: who wrote it (free text, as Bandwidth's `UserId`) and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteText {
    pub user_id: String,
    pub description: String,
}

impl NoteText {
    pub fn parse(user_id: Option<&str>, description: Option<&str>) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let user_id = user_id.map(str::trim).unwrap_or_default();
        if user_id.is_empty() {
            errors.push_required("user_id");
        } else if user_id.chars().count() > NOTE_USER_MAX_CHARS {
            errors.push(
                "user_id",
                format!("must be at most {NOTE_USER_MAX_CHARS} characters"),
            );
        }
        let description = description.map(str::trim).unwrap_or_default();
        if description.is_empty() {
            errors.push_required("description");
        } else if description.chars().count() > NOTE_MAX_CHARS {
            errors.push(
                "description",
                format!("must be at most {NOTE_MAX_CHARS} characters"),
            );
        }
        errors.into_result()?;
        Ok(NoteText {
            user_id: user_id.to_string(),
            description: description.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNote {
    pub id: i64,
    pub order_id: OrderId,
    pub account: AccountId,
    #[serde(flatten)]
    pub text: NoteText,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_description_are_required_and_bounded() {
        assert!(NoteText::parse(Some("jbm"), Some("hello")).is_ok());
        assert!(NoteText::parse(None, Some("hello")).is_err());
        assert!(NoteText::parse(Some("jbm"), Some(&"x".repeat(501))).is_err());
    }
}
