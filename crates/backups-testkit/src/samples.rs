//! Sample API bodies for test peers that play Pieces OS.

/// A backup as the API returns it, in one line of JSON. The device name is not ASCII, so that
/// chunk cuts can fall inside a character. `id` is written as is: keep it free of `"` and `\`.
pub fn backup_json(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","bytes":1024,"created":{{"value":"2026-11-26T21:00:00Z","readable":"now"}},"device_name":"Zoë's Mäcbook 💻","platform":"MACOS","timestamp":"1764190800","version":"11.0.0"}}"#
    )
}
