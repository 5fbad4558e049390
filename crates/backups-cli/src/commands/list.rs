//! `list`: every backup, as a table or exactly as the server sent the listing.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_proto::operations::List;

use crate::output;
use crate::stop::Stop;

/// `list`: a table, or the listing exactly as the server sent it.
pub(crate) async fn list(
    client: &BackupsClient,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (backups, raw) = client.execute_raw(&List).await?;
    if json {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
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
