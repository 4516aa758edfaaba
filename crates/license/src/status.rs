//! The IETF Token Status List: a compressed bit array (two bits per license) signed as a JWT with a
//! time to live. Values: 0 valid, 1 invalid (revoked), 2 suspended. A revocation is never reversed;
//! a suspension can be lifted.

use crate::jose::{b64, sign, unb64};
use crate::sdjwt::Status;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use p256::ecdsa::SigningKey;
use serde_json::json;
use shuju_types::{Error, Result};
use std::io::{Read, Write};

const BITS: usize = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list with room for `size` licenses, all valid.
    pub fn new(size: usize) -> Self {
        StatusList {
            bytes: vec![0; (size * BITS).div_ceil(8)],
        }
    }

    /// A list from its raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Ok(StatusList { bytes })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn capacity(&self) -> usize {
        self.bytes.len() * 8 / BITS
    }

    pub fn get(&self, idx: usize) -> Result<Status> {
        let byte = *self
            .bytes
            .get(idx * BITS / 8)
            .ok_or_else(|| Error::invalid("idx", "is outside the status list"))?;
        Ok(match (byte >> ((idx * BITS) % 8)) & 0b11 {
            0 => Status::Valid,
            1 => Status::Revoked,
            _ => Status::Suspended,
        })
    }

    /// Change a status: revoke, suspend, or lift a suspension. A revocation is final.
    pub fn set(&mut self, idx: usize, s: Status) -> Result<()> {
        let current = self.get(idx)?;
        if current == Status::Revoked && s != Status::Revoked {
            return Err(Error::conflict("a revoked license cannot be reinstated"));
        }
        let v: u8 = match s {
            Status::Valid => 0,
            Status::Revoked => 1,
            Status::Suspended => 2,
        };
        let shift = (idx * BITS) % 8;
        let b = &mut self.bytes[idx * BITS / 8];
        *b = (*b & !(0b11 << shift)) | (v << shift);
        Ok(())
    }

    /// `lst`: the bytes, zlib-compressed, base64url.
    pub fn encode(&self) -> Result<String> {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&self.bytes).map_err(Error::internal)?;
        Ok(b64(z.finish().map_err(Error::internal)?))
    }

    pub fn decode(lst: &str) -> Result<Self> {
        let mut bytes = Vec::new();
        ZlibDecoder::new(unb64(lst, "lst")?.as_slice())
            .read_to_end(&mut bytes)
            .map_err(|_| Error::invalid("lst", "is not a zlib-compressed status list"))?;
        Ok(StatusList { bytes })
    }

    /// The signed status list token.
    pub fn token(
        &self,
        uri: &str,
        kid: &str,
        iat: i64,
        ttl: i64,
        key: &SigningKey,
    ) -> Result<String> {
        Ok(sign(
            &json!({"alg": "ES256", "typ": "statuslist+jwt", "kid": kid}),
            &json!({"sub": uri, "iat": iat, "exp": iat + ttl, "ttl": ttl, "status_list": {"bits": BITS, "lst": self.encode()?}}),
            key,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_encode_and_final_revocation() {
        let mut l = StatusList::new(100_000);
        assert_eq!(l.capacity(), 100_000);
        l.set(7, Status::Suspended).unwrap();
        l.set(8, Status::Revoked).unwrap();
        assert_eq!(l.get(7).unwrap(), Status::Suspended);
        l.set(7, Status::Valid).unwrap();
        assert_eq!(l.get(7).unwrap(), Status::Valid);
        assert!(
            l.set(8, Status::Valid).is_err(),
            "a revocation is never reversed"
        );
        let lst = l.encode().unwrap();
        assert!(
            lst.len() < 200,
            "a sparse list compresses well: {}",
            lst.len()
        );
        let back = StatusList::decode(&lst).unwrap();
        assert_eq!(back.get(8).unwrap(), Status::Revoked);
        assert_eq!(back, l);
        assert!(l.get(100_000).is_err());
    }
}
