//! The documentation keeps up with the table of operations: `docs/wire-protocol.md` names every
//! operation's request line (method and path) and every official name, so that the "Adding an
//! operation" step of documenting the wire fails here when it is left undone.

use backups_proto::Operation;

fn wire_protocol() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wire-protocol.md");
    std::fs::read_to_string(path).expect("docs/wire-protocol.md")
}

#[test]
fn the_wire_protocol_page_names_every_operation() {
    let page = wire_protocol();
    for op in Operation::ALL {
        let request = format!("`{} {}", op.method(), op.path_template());
        assert!(
            page.contains(&request),
            "docs/wire-protocol.md lacks {request}` ({op})"
        );
        let official = op.spec().official_name;
        assert!(
            page.contains(official),
            "docs/wire-protocol.md lacks the official name {official} ({op})"
        );
    }
}
