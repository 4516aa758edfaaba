//! Electronic licenses (电子证照).
//!
//! A license is signed two ways: as an SD-JWT VC (`typ: dc+sd-jwt`, ES256, every claim but the
//! identifier, type, issuer and validity selectively disclosable, the holder's key in `cnf`), and
//! with an SM2 signature over the license's canonical content for the national seal. Showing one
//! (亮证) builds a presentation that discloses only the claims a matter needs, bound to the
//! verifier's nonce and audience by a key-binding JWT. Status is an IETF Token Status List.
//!
//! This crate holds the cryptographic core: [`jose`] (ES256 JWS and P-256 JWKs), [`sdjwt`]
//! (issue, present, verify strictly per RFC 9901), [`status`] (the status list) and [`seal`]
//! (SM2/SM3). The registry, API, pages and figures build on it.

pub use shuju_store::license::LicenseFilter;
pub mod bulk;
pub mod bundle;
pub mod held;
pub mod jose;
pub mod kek;
pub mod nonces;
pub mod receipt;
pub mod registry;
pub mod sdjwt;
pub mod seal;
pub mod status;
pub mod vectors;
