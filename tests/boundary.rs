//! Every exported function runs its body inside the one panic boundary
//! (`ffi_boundary!`), so no Rust panic can unwind into C.

use std::path::Path;

#[test]
fn every_exported_function_sits_behind_the_panic_boundary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let mut rest = source.as_str();
        while let Some(at) = rest.find("pub extern \"C\" fn ") {
            let after = &rest[at..];
            let name: String = after["pub extern \"C\" fn ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The body is everything up to the next exported function.
            let end = after[1..]
                .find("pub extern \"C\" fn ")
                .map_or(after.len(), |e| e + 1);
            let open = after.find('{').unwrap();
            let body = after[open + 1..end].trim_start();
            assert!(
                body.starts_with("ffi_boundary!("),
                "{} in {} does not start with ffi_boundary!",
                name,
                path.display()
            );
            checked += 1;
            rest = &after[1..];
        }
        assert!(
            !source.contains("pub unsafe extern \"C\" fn"),
            "unsafe exported fn in {}",
            path.display()
        );
    }
    assert!(checked >= 20, "only {checked} exported functions found");
}
