// The migrations are embedded with `sqlx::migrate!`; rebuild when a file is added
// to or changed in the folder, not only when Rust sources change.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
