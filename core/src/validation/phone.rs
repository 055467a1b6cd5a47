//! Indonesian phone number validation.
