//! The UniFFI binding generator, built from the same UniFFI version as `bindings/`:
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libjemput.so --language kotlin --out-dir …`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
