//! HMAC-SHA256 signatures under a server secret kept in the store, so that what one node
//! hands out (task tokens, signed log links) every node on the database accepts, and no
//! client can make or alter one.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::ServiceError;
use crate::store::Store;

/// Signs and checks messages with one named secret.
#[derive(Clone)]
pub struct Signer {
    secret: Arc<[u8]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer with the store's secret `name` (made and stored on the first start).
    pub async fn load(store: &dyn Store, name: &str) -> Result<Self, ServiceError> {
        let fresh = crate::ids::random::<32>("a signing secret")?;
        Ok(Self::with_secret(&store.server_secret(name, fresh.to_vec()).await?))
    }

    /// A signer with a given secret.
    pub fn with_secret(secret: &[u8]) -> Self {
        Self { secret: secret.into() }
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        mac.update(message);
        mac
    }

    /// The signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.mac(message).finalize().into_bytes().to_vec()
    }

    /// True when `tag` is `message`'s signature (compared in constant time).
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        self.mac(message).verify_slice(tag).is_ok()
    }
}
