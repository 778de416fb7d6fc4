//! The module cache on disk: where it lives, how entries are keyed, and how
//! they are written so that concurrent processes never see half a file.
//!
//! A key is the SHA-256 of everything that determines NVRTC's output: a
//! format tag, the target (cubin/PTX and architecture), NVRTC's version, the
//! full option list, every header's name and contents, and the source. Each
//! field is length-prefixed, so no two different inputs hash the same bytes.
//!
//! Entries are files `modules/<key>.cubin` / `modules/<key>.ptx`. A writer
//! writes a uniquely named temporary file in the same folder and renames it
//! over the final name: `rename` is atomic on one file system, so a reader
//! sees either no file or a whole one, and two processes compiling the same
//! module at once both succeed (the second rename replaces an identical
//! file). Include folders for the headers are made the same way, as a folder
//! renamed into place.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// The environment variable that overrides the cache folder.
pub const CACHE_DIR_ENV: &str = "RINGKERNEL_CACHE_DIR";

/// Bump when the meaning of cached files changes.
const FORMAT: &[u8] = b"ringkernel-module-cache-v1";

/// A module cache key: SHA-256 of the compilation's inputs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(pub [u8; 32]);

impl CacheKey {
    /// Lower-case hex, the file-name form.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.hex())
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Builds a key from length-prefixed fields.
#[derive(Debug, Default)]
pub(crate) struct KeyHasher(Sha256);

impl KeyHasher {
    pub(crate) fn new() -> KeyHasher {
        let mut h = KeyHasher(Sha256::new());
        h.field(FORMAT);
        h
    }

    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    pub(crate) fn finish(self) -> CacheKey {
        CacheKey(self.0.finalize().into())
    }
}

/// The default cache folder: `RINGKERNEL_CACHE_DIR` if set and non-empty,
/// else `ringkernel/` in the user's cache folder (`$XDG_CACHE_HOME` or
/// `~/.cache` on Linux), else none (no disk cache).
pub fn default_cache_dir() -> Option<PathBuf> {
    cache_dir_from(std::env::var_os(CACHE_DIR_ENV))
}

fn cache_dir_from(env: Option<std::ffi::OsString>) -> Option<PathBuf> {
    match env {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("ringkernel")),
    }
}

/// The path of a cached module image.
pub(crate) fn module_path(dir: &Path, key: &CacheKey, ext: &str) -> PathBuf {
    dir.join("modules").join(format!("{}.{ext}", key.hex()))
}

/// Reads a cached file; a missing or unreadable file is a miss.
pub(crate) fn read(path: &Path) -> Option<Vec<u8>> {
    fs::read(path).ok().filter(|bytes| !bytes.is_empty())
}

/// A name no other writer (thread or process) uses at the same time.
fn temp_name(final_path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut name = final_path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}-{nanos}", std::process::id()));
    final_path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = temp_name(path);
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes `dir` hold exactly `files` (name, contents), atomically: the folder
/// either does not exist or is complete. An existing folder is trusted
/// (folders are named by a hash of their contents and only ever renamed into
/// place whole).
pub(crate) fn ensure_folder(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = temp_name(dir);
    fs::create_dir_all(&tmp)?;
    let filled = files
        .iter()
        .try_for_each(|(name, text)| fs::write(tmp.join(name), text));
    let result = filled.and_then(|()| match fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another writer won the race with the same contents.
        Err(_) if dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    });
    if tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rk-cache-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn fields_are_length_prefixed() {
        let mut a = KeyHasher::new();
        a.field(b"ab").field(b"c");
        let mut b = KeyHasher::new();
        b.field(b"a").field(b"bc");
        assert_ne!(a.finish(), b.finish());
        let mut c = KeyHasher::new();
        c.field(b"ab").field(b"c");
        let mut d = KeyHasher::new();
        d.field(b"ab").field(b"c");
        assert_eq!(c.finish(), d.finish());
    }

    #[test]
    fn keys_print_as_64_hex_digits() {
        let key = KeyHasher::new().finish();
        assert_eq!(key.hex().len(), 64);
        assert!(key.hex().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn atomic_writes_leave_no_temporaries() {
        let dir = scratch("atomic");
        let path = module_path(&dir, &KeyHasher::new().finish(), "ptx");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(read(&path).unwrap(), b"two");
        let entries: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(entries.len(), 1, "temporary files left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_writers_all_succeed_with_whole_files() {
        let dir = scratch("concurrent");
        let path = module_path(&dir, &KeyHasher::new().finish(), "cubin");
        let payload = vec![0xabu8; 1 << 20];
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..8 {
                        write_atomic(&path, &payload).unwrap();
                        assert_eq!(read(&path).unwrap().len(), payload.len());
                    }
                });
            }
        });
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_appear_whole() {
        let dir = scratch("folder").join("include").join("abc");
        let files = vec![("a.cuh".to_string(), "// a".to_string())];
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| ensure_folder(&dir, &files).unwrap());
            }
        });
        assert_eq!(fs::read_to_string(dir.join("a.cuh")).unwrap(), "// a");
        let siblings: Vec<_> = fs::read_dir(dir.parent().unwrap()).unwrap().collect();
        assert_eq!(siblings.len(), 1, "temporary folders left behind");
        fs::remove_dir_all(dir.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn the_environment_overrides_the_folder() {
        assert_eq!(
            cache_dir_from(Some("/tmp/rk-x".into())),
            Some(PathBuf::from("/tmp/rk-x"))
        );
        let user = dirs::cache_dir().map(|d| d.join("ringkernel"));
        assert_eq!(cache_dir_from(Some("".into())), user);
        assert_eq!(cache_dir_from(None), user);
    }
}
