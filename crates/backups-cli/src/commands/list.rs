//! `list`: every backup, as a table or exactly as the server sent the listing.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_models::{Backups, Filter};
use backups_proto::operations::List;

use crate::output;
use crate::stop::Stop;

/// `list`: a table, or the listing exactly as the server sent it; with a filter, only the
/// backups it matches (in JSON, a listing of those).
pub(crate) async fn list(
    client: &BackupsClient,
    filter: &Filter,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (backups, raw) = client.execute_raw(&List).await?;
    let backups = if filter.is_empty() {
        backups
    } else {
        Backups::new(backups.filtered(filter).cloned().collect())
    };
    if json && filter.is_empty() {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
    } else if json {
        writeln!(out, "{}", output::json_line(&backups)).ok();
    } else {
        write!(
            out,
            "{}",
            output::table_with(&backups, output::Look::for_stdout())
        )
        .ok();
    }
    Ok(())
}
