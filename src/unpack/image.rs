//! Container images (#13): what makes a tar of layers an image. Owns reading the layer order
//! from a `docker save` / `podman save` `manifest.json` or an OCI image layout (`index.json`
//! and the manifest blobs it names), and the whiteout rules of the OCI image spec: a later
//! layer deletes `dir/name` with an empty `dir/.wh.name`, and everything a lower layer put in
//! `dir` with `dir/.wh..wh..opq`. The deleted file still ships in its own layer, so a key in it
//! is still a finding: this module only says which later layer deleted it. Pure: names and
//! small JSON documents in, layer names out; no I/O, never prints.

use std::collections::HashMap;

use serde::Deserialize;

/// The largest member read as a possible image index or manifest (`manifest.json`,
/// `index.json`, `blobs/sha256/…`), in bytes; real ones are a few KiB, layers are larger.
pub const MAX_INDEX_BYTES: u64 = 1 << 20;

/// Image indexes nested in an OCI index (a multi-platform image is one level) followed at most.
const MAX_INDEX_NESTING: u32 = 4;

/// Whether container member `name` may describe an image, so it is worth reading whole when it
/// is at most `MAX_INDEX_BYTES`.
///
/// ```
/// use leadey_scan::unpack::image::is_index_name;
/// assert!(is_index_name("manifest.json"));
/// assert!(is_index_name("./blobs/sha256/0123abcd"));
/// assert!(!is_index_name("app/manifest.json"));
/// ```
pub fn is_index_name(name: &str) -> bool {
    let name = normalize(name);
    name == "manifest.json" || name == "index.json" || name.starts_with("blobs/")
}

/// A deletion a layer records for the layers below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whiteout {
    /// `dir/.wh.name`: the file or directory `dir/name` is deleted.
    Path(String),
    /// `dir/.wh..wh..opq`: everything lower layers put in `dir` is deleted (`""`: the root).
    Opaque(String),
}

impl Whiteout {
    /// The whiteout layer member `name` records, if it is one.
    ///
    /// ```
    /// use leadey_scan::unpack::image::Whiteout;
    /// assert_eq!(Whiteout::from_name("app/.wh.config.env"),
    ///            Some(Whiteout::Path("app/config.env".into())));
    /// assert_eq!(Whiteout::from_name("./etc/.wh..wh..opq"), Some(Whiteout::Opaque("etc".into())));
    /// assert_eq!(Whiteout::from_name("app/config.env"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Whiteout> {
        let name = normalize(name);
        let (dir, base) = match name.rsplit_once('/') {
            Some((dir, base)) => (dir, base),
            None => ("", name),
        };
        if base == ".wh..wh..opq" {
            return Some(Whiteout::Opaque(dir.to_string()));
        }
        let target = base.strip_prefix(".wh.").filter(|t| !t.is_empty())?;
        Some(Whiteout::Path(if dir.is_empty() {
            target.to_string()
        } else {
            format!("{dir}/{target}")
        }))
    }

    /// Whether this whiteout, in a higher layer, deletes `path` of a lower layer.
    pub fn deletes(&self, path: &str) -> bool {
        let path = normalize(path);
        match self {
            Whiteout::Path(target) => is_within(path, target),
            Whiteout::Opaque(dir) if dir.is_empty() => true,
            Whiteout::Opaque(dir) => path
                .strip_prefix(dir.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

/// `path` is `target` or below it.
fn is_within(path: &str, target: &str) -> bool {
    path.strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A tar member name without `./` or `/` in front and `/` behind (layers differ in this).
fn normalize(name: &str) -> &str {
    let mut name = name;
    loop {
        if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else {
            break;
        }
    }
    name.trim_end_matches('/')
}

/// The image descriptions found among a container's members, gathered while it is walked.
#[derive(Debug, Default)]
pub struct Index {
    /// `manifest.json` of `docker save`: one layer list per image.
    docker: Option<Vec<Vec<String>>>,
    /// `index.json` of an OCI layout: the digests of its manifests.
    oci: Option<Vec<String>>,
    /// OCI blobs that are manifests or indexes, by member name.
    blobs: HashMap<String, Blob>,
}

/// An OCI blob that describes, rather than holds, content.
#[derive(Debug)]
enum Blob {
    /// An image manifest: its layers' digests, lowest first.
    Manifest(Vec<String>),
    /// An image index: the digests of its manifests.
    Index(Vec<String>),
}

#[derive(Deserialize)]
struct DockerEntry {
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
}

#[derive(Deserialize)]
struct OciDocument {
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

impl Index {
    /// Takes in member `name` (for which `is_index_name` holds) with content `data`; what is
    /// not an image description (any other JSON, or none) is passed over.
    pub fn add(&mut self, name: &str, data: &[u8]) {
        let name = normalize(name);
        if name == "manifest.json" {
            if let Ok(entries) = serde_json::from_slice::<Vec<DockerEntry>>(data) {
                self.docker = Some(entries.into_iter().map(|e| e.layers).collect());
            }
            return;
        }
        let Ok(doc) = serde_json::from_slice::<OciDocument>(data) else {
            return;
        };
        let digests = |list: Vec<Descriptor>| list.into_iter().map(|d| d.digest).collect();
        if name == "index.json" {
            self.oci = doc.manifests.map(digests);
        } else if let Some(layers) = doc.layers {
            self.blobs
                .insert(name.to_string(), Blob::Manifest(digests(layers)));
        } else if let Some(manifests) = doc.manifests {
            self.blobs
                .insert(name.to_string(), Blob::Index(digests(manifests)));
        }
    }

    /// The layer lists (member names, lowest layer first) of the images described, one per
    /// image; empty when the container is not an image. `manifest.json` wins when both are
    /// there (Docker 25 writes both, naming the same blobs).
    pub fn images(&self) -> Vec<Vec<String>> {
        if let Some(docker) = &self.docker {
            return docker
                .iter()
                .map(|layers| layers.iter().map(|l| normalize(l).to_string()).collect())
                .collect();
        }
        let mut images = Vec::new();
        if let Some(manifests) = &self.oci {
            for digest in manifests {
                self.collect(digest, 0, &mut images);
            }
        }
        images
    }

    /// Adds the images manifest or index `digest` describes to `images`.
    fn collect(&self, digest: &str, nesting: u32, images: &mut Vec<Vec<String>>) {
        match self.blobs.get(&blob_name(digest)) {
            Some(Blob::Manifest(layers)) => {
                images.push(layers.iter().map(|d| blob_name(d)).collect());
            }
            Some(Blob::Index(manifests)) if nesting < MAX_INDEX_NESTING => {
                for d in manifests {
                    self.collect(d, nesting + 1, images);
                }
            }
            _ => {}
        }
    }
}

/// The member name of the blob with `digest` (`sha256:ab…` → `blobs/sha256/ab…`).
fn blob_name(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("blobs/{algorithm}/{hex}"),
        None => format!("blobs/{digest}"),
    }
}

/// The later layer that deletes `path` of layer `layer` in `images`, given each layer's
/// whiteouts: in every image that lists `layer`, some higher layer must delete it (a layer two
/// images share is deleted only if it is deleted in both). `None` when it is not deleted or
/// `layer` is in no image.
pub fn deleted_by<'i>(
    images: &'i [Vec<String>],
    whiteouts: &HashMap<String, Vec<Whiteout>>,
    layer: &str,
    path: &str,
) -> Option<&'i str> {
    let layer = normalize(layer);
    let mut first = None;
    for image in images {
        let Some(i) = image.iter().position(|l| l == layer) else {
            continue;
        };
        let by = image.iter().skip(i + 1).find(|higher| {
            whiteouts
                .get(normalize(higher))
                .is_some_and(|ws| ws.iter().any(|w| w.deletes(path)))
        })?;
        first.get_or_insert(by.as_str());
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whiteouts(list: &[(&str, &str)]) -> HashMap<String, Vec<Whiteout>> {
        let mut map: HashMap<String, Vec<Whiteout>> = HashMap::new();
        for (layer, name) in list {
            map.entry(layer.to_string())
                .or_default()
                .push(Whiteout::from_name(name).expect("a whiteout name"));
        }
        map
    }

    fn image(layers: &[&str]) -> Vec<Vec<String>> {
        vec![layers.iter().map(|l| l.to_string()).collect()]
    }

    #[test]
    fn a_whiteout_deletes_its_file_and_what_is_below_it_but_not_its_neighbours() {
        let w = Whiteout::from_name("app/.wh.conf").expect("whiteout");
        assert!(w.deletes("app/conf"));
        assert!(w.deletes("./app/conf/x.env"));
        assert!(!w.deletes("app/conf.bak"));
        assert!(!w.deletes("app/other"));
        let root = Whiteout::from_name(".wh.secrets").expect("whiteout");
        assert!(root.deletes("secrets"));
        assert!(!root.deletes("app/secrets"));
        assert_eq!(Whiteout::from_name("app/.wh."), None);
    }

    #[test]
    fn an_opaque_whiteout_deletes_everything_below_its_directory() {
        let w = Whiteout::from_name("etc/.wh..wh..opq").expect("whiteout");
        assert!(w.deletes("etc/app.env"));
        assert!(w.deletes("etc/deep/app.env"));
        assert!(!w.deletes("etc"));
        assert!(!w.deletes("etcetera/app.env"));
        let root = Whiteout::from_name(".wh..wh..opq").expect("whiteout");
        assert!(root.deletes("anything/at/all"));
    }

    #[test]
    fn only_a_higher_layer_deletes() {
        let images = image(&["l1", "l2", "l3"]);
        let ws = whiteouts(&[("l2", "app/.wh.a.env")]);
        assert_eq!(deleted_by(&images, &ws, "l1", "app/a.env"), Some("l2"));
        assert_eq!(deleted_by(&images, &ws, "l3", "app/a.env"), None);
        assert_eq!(deleted_by(&images, &ws, "l2", "app/a.env"), None);
        assert_eq!(deleted_by(&images, &ws, "l1", "app/b.env"), None);
        assert_eq!(deleted_by(&images, &ws, "other", "app/a.env"), None);
    }

    #[test]
    fn a_layer_shared_by_two_images_is_deleted_only_if_both_delete_it() {
        let mut images = image(&["base", "top"]);
        images.push(vec!["base".to_string(), "other".to_string()]);
        let ws = whiteouts(&[("top", ".wh.a.env")]);
        assert_eq!(deleted_by(&images, &ws, "base", "a.env"), None);
        let ws = whiteouts(&[("top", ".wh.a.env"), ("other", ".wh..wh..opq")]);
        assert_eq!(deleted_by(&images, &ws, "base", "a.env"), Some("top"));
    }

    #[test]
    fn docker_manifest_gives_the_layer_order() {
        let mut index = Index::default();
        index.add(
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":["a:1"],"Layers":["./l1/layer.tar","l2/layer.tar"]}]"#,
        );
        assert_eq!(index.images(), vec![vec!["l1/layer.tar", "l2/layer.tar"]]);
    }

    #[test]
    fn oci_index_is_followed_through_nested_indexes_to_the_layers() {
        let mut index = Index::default();
        index.add("index.json", br#"{"manifests":[{"digest":"sha256:aa"}]}"#);
        index.add(
            "blobs/sha256/aa",
            br#"{"manifests":[{"digest":"sha256:bb"}]}"#,
        );
        index.add(
            "blobs/sha256/bb",
            br#"{"config":{"digest":"sha256:cc"},"layers":[{"digest":"sha256:l1"},{"digest":"sha256:l2"}]}"#,
        );
        index.add("blobs/sha256/cc", br#"{"config":{"Env":[]}}"#);
        assert_eq!(
            index.images(),
            vec![vec!["blobs/sha256/l1", "blobs/sha256/l2"]]
        );
    }

    #[test]
    fn a_tar_with_no_image_description_has_no_images() {
        let mut index = Index::default();
        index.add("index.json", b"not json");
        index.add("blobs/x", b"{}");
        assert!(index.images().is_empty());
    }
}
