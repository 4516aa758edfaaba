// New migration files must rebuild the crate: sqlx::migrate! embeds them at compile time.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
