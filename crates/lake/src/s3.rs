//! The lake on an S3-compatible object store (`s3://bucket/prefix`): MinIO, Ceph, the clouds'
//! object storage, AWS S3.
//!
//! The store is configured as the AWS tools are, from the environment: `AWS_ENDPOINT` (for a
//! store other than AWS), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ALLOW_HTTP=true` for a store inside the network without TLS. A commit is a
//! conditional create of the next log entry (`If-None-Match: *`), which the store refuses when
//! another writer took that version first: no lock service is needed, but the store must
//! support conditional writes (MinIO, Ceph RGW and AWS S3 do).

use deltalake::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake::{DeltaResult, DeltaTableError, Path};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use std::str::FromStr;
use std::sync::{Arc, Once};
use url::Url;

struct S3Stores;

impl ObjectStoreFactory for S3Stores {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, Path)> {
        let mut b = AmazonS3Builder::from_env()
            .with_url(url.as_str())
            .with_conditional_put(S3ConditionalPut::ETagMatch);
        for (k, v) in &config.raw {
            if let Ok(key) = AmazonS3ConfigKey::from_str(&k.to_ascii_lowercase()) {
                b = b.with_config(key, v);
            }
        }
        let store = b
            .build()
            .map_err(|e| DeltaTableError::Generic(format!("the S3 store: {e}")))?;
        let path = Path::from_url_path(url.path())
            .map_err(|e| DeltaTableError::Generic(format!("the S3 path: {e}")))?;
        Ok((Arc::new(store), path))
    }
}

struct S3LogStores;

impl LogStoreFactory for S3LogStores {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Let deltalake open `s3://` locations (once per process).
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(scheme) = Url::parse("s3://") {
            object_store_factories().insert(scheme.clone(), Arc::new(S3Stores));
            logstore_factories().insert(scheme, Arc::new(S3LogStores));
        }
    });
}
