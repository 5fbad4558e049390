//! The answer to `GET /backups`, serialized once per change of the store's index instead of once
//! per request.
//!
//! Listing is the call clients poll, and the store changes only on a create or a delete, so
//! encoding every backup again for each poll is work thrown away. The store bumps
//! its generation number after each change of its index (a create's insert, a delete's
//! removal), and the cached bytes carry the generation they were built at: a request whose
//! generation differs builds them anew.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use backups_models::Backups;
use bytes::Bytes;

use crate::store::Store;

/// The serialized listing and the store generation it shows.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    cached: Mutex<Option<(u64, Bytes)>>,
}

impl Listing {
    /// The JSON body of `GET /backups` for the store as it is now: the same bytes as
    /// `serde_json::to_vec(&Backups::new(store.list()))`.
    ///
    /// Never stale for a request that starts after a change was answered: the generation is
    /// read before the index, and the store bumps it after changing the index, so bytes filed
    /// under a generation were built from an index at least as new as that generation.
    pub(crate) fn bytes(&self, store: &Store) -> Result<Bytes, serde_json::Error> {
        let generation = store.generation.load(Ordering::Acquire);
        if let Some((built, bytes)) = &*self.lock() {
            if *built == generation {
                return Ok(bytes.clone());
            }
        }
        // Encoded without the lock held: a slow rebuild must not hold up hits of other
        // connections, and two rebuilds racing only cost the loser's work.
        let bytes = Bytes::from(serde_json::to_vec(&Backups::new(store.list()))?);
        let mut cached = self.lock();
        // An older build finishing late never replaces a newer one.
        if cached.as_ref().is_none_or(|(built, _)| *built < generation) {
            *cached = Some((generation, bytes.clone()));
        }
        Ok(bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Bytes)>> {
        // Only whole values are ever stored, so a holder's panic leaves nothing half-written.
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
