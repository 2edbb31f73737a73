//! `uniffi-bindgen`: generates Kotlin, Swift and Python bindings from the built openzone-ffi library.
#![forbid(unsafe_code)]

fn main() {
    uniffi::uniffi_bindgen_main()
}
