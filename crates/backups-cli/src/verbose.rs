//! `--verbose`: the SDK's `tracing` spans on stderr, one line per call.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::output::colour_on;

/// The most detailed level shown for `count` `-v`s: none without, each call (INFO) with one,
/// retries and dropped bodies (DEBUG) with two, everything (TRACE) with more.
pub(crate) fn level(count: u8) -> LevelFilter {
    match count {
        0 => LevelFilter::OFF,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Installs a subscriber that writes the SDK's events, within their `backups_call` span (its
/// operation, method, path and status) and with their duration, to stderr; does nothing
/// without `-v`. Stdout is left to the command's output.
pub(crate) fn init(count: u8) {
    let level = level(count);
    if level == LevelFilter::OFF {
        return;
    }
    let stderr = std::io::stderr();
    let colour = colour_on(&stderr);
    let filter = Targets::new()
        .with_target("backups_hyper", level)
        .with_target("backups_proto", level);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    // Fails only when a subscriber is already set, which nothing else here does.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;

    use super::level;

    #[test]
    fn each_v_shows_more() {
        assert_eq!(level(0), LevelFilter::OFF);
        assert_eq!(level(1), LevelFilter::INFO);
        assert_eq!(level(2), LevelFilter::DEBUG);
        assert_eq!(level(5), LevelFilter::TRACE);
    }
}
