//! Rebuilds the binary when any file of the Mini App (`app/`, compiled in) changes,
//! added files included.
fn main() {
    println!("cargo:rerun-if-changed=app");
}
