//! The smallest useful blocking program: list the backups of the Pieces OS at the URL given
//! (or found by discovery). Its release size is what a synchronous tool pays for this SDK:
//! `cargo build --release -p backups-blocking --example list`.
//!
//! ```text
//! cargo run -p backups-blocking --example list -- http://127.0.0.1:39300
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = match std::env::args().nth(1) {
        Some(url) => backups_blocking::Client::builder().base_url(url).build()?,
        None => backups_blocking::Client::discover()?,
    };
    for backup in client.list()?.iter() {
        println!("{} {} {}", backup.id, backup.device_name, backup.bytes);
    }
    Ok(())
}
