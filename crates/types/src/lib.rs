//! Shuju's domain vocabulary: identifiers and codes that are parsed once at the edge and trusted
//! afterwards ("parse, don't validate"), and the one error type every crate returns.
//!
//! Nothing here does I/O. Every type has a `parse` constructor that either returns a value that is
//! valid by construction or an [`Error`] naming the field and the reason.

pub mod calendar;
pub mod citizen_id;
pub mod credit_code;
pub mod division;
pub mod division_seed;
pub mod error;
pub mod library;
pub mod license_id;
pub mod mask;
pub mod registration_number;
pub mod resource_code;

pub use citizen_id::{CitizenId, Sex};
pub use credit_code::CreditCode;
pub use division::{DivisionCode, DivisionLevel};
pub use error::{Error, ErrorCode, Result};
pub use library::Library;
pub use license_id::LicenseId;
pub use registration_number::RegistrationNumber;
pub use resource_code::{CodingProfile, ResourceAttribute, ResourceCode};
