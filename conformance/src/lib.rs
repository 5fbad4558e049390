//! The conformance suite of the Pieces OS **Backups API**: proof that a client, a transport or a
//! server behaves exactly as the wire contract says.
//!
//! - **Cases** are HAR 1.2 files under `conformance/exchanges/`, one per case, each written from a
//!   fact of the wire contract (or recorded from a live server) and saying so in `_source`. A
//!   [`Case`] holds the calls to make, the requests they must produce, the responses to replay
//!   chunk by chunk, and the outcome to expect.
//! - [`ReplayTransport`] is a [`Transport`](backups_proto::Transport) that plays a case back and
//!   checks every request; it panics on drop if a recorded exchange was never used.
//! - [`ReplayServer`] serves the same recordings over HTTP/1.1, and [`check_transport`] runs the
//!   whole suite against a transport of yours through it.
//! - [`strategies`] holds proptest strategies for every model, for your own property tests.
//! - [`record`] captures fresh cases from a live server (`cargo xtask record`).
//!
//! See `docs/conformance.md` for the case format and `cargo xtask conformance` for the table.
//!
//! ```
//! use backups_conformance::{Case, run_replay};
//!
//! let case = Case::load("exchanges/delete_encoded_id.har".as_ref())?;
//! let run = run_replay(&case);
//! assert!(run.passed(), "{:?}", run.problems);
//! // The id went out as one encoded path segment, dots included.
//! assert_eq!(case.exchanges[0].request.path_and_query, "/backups/a%2Fb%20c%3Fd%23e%25f%2E%2E/delete");
//! # Ok::<(), backups_conformance::CaseError>(())
//! ```

#![forbid(unsafe_code)]

mod case;
mod generate;
pub mod har;
mod http1;
mod matching;
mod outcome;
pub mod record;
mod replay;
mod report;
mod server;
pub mod strategies;
mod suite;

pub use case::{
    BUILTIN_DIR, Call, Case, CaseError, ChannelCall, Exchange, Expect, ExpectedBody,
    ExpectedMessage, ExpectedRequest, LiveSetup, RELAXED, RecordedResponse, ReplayMessage,
    SocketScript, SocketStep,
};
pub use matching::{
    Mismatch, SeenMessage, SeenRequest, differences, json_diff, message_difference,
};
pub use outcome::{ErrorReport, Outcome, OutcomeResult};
pub use replay::{ReplayBody, ReplayError, ReplaySocket, ReplayTransport, response_of};
pub use report::{CaseResult, RESULTS_DIR_ENV, SuiteReport, render_table};
pub use server::ReplayServer;
pub use suite::{
    CASE_TIMEOUT, CaseRun, block_on, check_http_transport, check_http_transport_within,
    check_transport, check_transport_with, check_transport_within, run_replay,
};
