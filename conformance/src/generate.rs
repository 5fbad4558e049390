//! Response bodies generated at load time (the `_generate` field), so that a case about a large
//! listing does not put megabytes of JSON in the repository.

use serde_json::{Map, Value, json};

use crate::har::Generate;

/// The body a `_generate` spec describes.
///
/// `{"backups": N}` is a `Backups` listing of `N` backups with `indices` and a `score`; each
/// backup differs (id, size, platform, time) so that a reader that mixes them up is caught.
pub(crate) fn body(spec: &Generate) -> Vec<u8> {
    listing(spec.backups).to_string().into_bytes()
}

const PLATFORMS: [&str; 7] = [
    "WEB", "MACOS", "LINUX", "WINDOWS", "FUCHSIA", "IOS", "ANDROID",
];

fn listing(count: u64) -> Value {
    // 2026-01-01T00:00:00Z, one backup a minute after it.
    const START: u64 = 1_767_225_600;
    let mut iterable = Vec::with_capacity(count as usize);
    let mut indices = Map::new();
    for i in 0..count {
        let seconds = START + i * 60;
        let id = format!("{}000", seconds);
        let created = time::OffsetDateTime::from_unix_timestamp(seconds as i64)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        // Every third size is fractional: `bytes` is a JSON number, not an integer.
        let bytes = if i % 3 == 0 {
            json!(1024.5 + i as f64)
        } else {
            json!(1_048_576 + i * 7)
        };
        iterable.push(json!({
            "id": id,
            "bytes": bytes,
            "created": {"value": created, "readable": format!("backup {i}")},
            "device_name": format!("device-{}", i % 17),
            "platform": PLATFORMS[(i % 7) as usize],
            "timestamp": id,
            "version": "12.0.0",
        }));
        indices.insert(id, json!(i));
    }
    json!({
        "iterable": iterable,
        "indices": indices,
        "score": {"manual": 0, "automatic": count},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_listing_the_models_read() {
        let text = body(&Generate { backups: 50 });
        let backups: backups_models::Backups = serde_json::from_slice(&text).unwrap();
        assert_eq!(backups.len(), 50);
        assert_eq!(
            backups.get("1767228540000").unwrap().device_name,
            "device-15"
        );
        assert!(serde_json::from_value::<Generate>(json!({"rows": 1})).is_err());
    }
}
