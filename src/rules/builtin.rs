//! The rule files embedded in the binary: every `rules/*.toml` of the repository.
//!
//! The list is written out (not globbed by a build script) so that a reviewer sees what ships;
//! a test checks that it names exactly the files in `rules/`.

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        /// `(file name, file text)` for each embedded rule file, in name order.
        pub(crate) const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $name))),)*
        ];
    };
}

embed!(
    "ai-platforms.toml",
    "ai.toml",
    "aws.toml",
    "azure.toml",
    "cloud.toml",
    "commerce.toml",
    "containers.toml",
    "database.toml",
    "devtools.toml",
    "generic.toml",
    "github.toml",
    "gitlab.toml",
    "google.toml",
    "http.toml",
    "jwt.toml",
    "messaging.toml",
    "observability.toml",
    "packages.toml",
    "payments.toml",
    "private-keys.toml",
    "saas.toml",
    "social.toml",
);

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_list_matches_rules_dir() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = super::FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            embedded, on_disk,
            "rules/builtin.rs must list every rules/*.toml"
        );
    }
}
