//! Content negotiation for the streamed endpoint.

use http::HeaderMap;
use http::header::ACCEPT;

/// The media type of a progress stream: one JSON object per line.
pub(crate) const NDJSON: &str = "application/x-ndjson";

/// Whether the request's Accept header names `application/x-ndjson` with a non-zero quality.
///
/// Only an explicit mention counts: `*/*` and `application/*` do not, because the official SDKs
/// send those and then fail on a body holding more than one JSON value.
pub(crate) fn accepts_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            media.eq_ignore_ascii_case(NDJSON) && quality(parts) > 0.0
        })
}

/// The `q` parameter among a media range's parameters; 1 when absent, 0 when unreadable.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> f32 {
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            return value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
        }
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[track_caller]
    fn check(accept: &[&str], expected: bool) {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, HeaderValue::from_str(value).expect("test header"));
        }
        assert_eq!(accepts_ndjson(&headers), expected, "{accept:?}");
    }

    #[test]
    fn names_ndjson_explicitly() {
        check(&["application/x-ndjson"], true);
        check(&["Application/X-NDJSON"], true);
        check(&["application/json, application/x-ndjson;q=0.5"], true);
        check(&["text/plain", "application/x-ndjson"], true);
        check(&[" application/x-ndjson ; charset=utf-8"], true);
    }

    #[test]
    fn everything_else_gets_one_object() {
        check(&[], false);
        check(&["application/json"], false);
        check(&["*/*"], false);
        check(&["application/*"], false);
        check(&["application/x-ndjson;q=0"], false);
        check(&["application/x-ndjson;q=nope"], false);
        check(&["application/x-ndjsonx"], false);
    }
}
