//! `restore --force` on a full disk (a 1 MiB tmpfs): every file it replaces
//! is written to a temporary name and renamed over the old one, so a restore
//! that runs out of space keeps the old file whole, leaves no temporary file
//! and does not change the modes of directories that were already there
//! (issue 14 item 6). Mounting needs root; with CI set it must not skip.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::*;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn restore_force_on_a_full_disk_keeps_the_old_files_and_directory_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // 2 MB that no compression helps: more than the whole tmpfs.
    let big: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    write(&data.join("big.bin"), &big, 0o644);
    write(&data.join("small.txt"), b"new small", 0o644);
    write(&data.join("sub/inner.txt"), b"new inner", 0o644);
    fs::set_permissions(&data, fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(data.join("sub"), fs::Permissions::from_mode(0o700)).unwrap();
    let repo = tmp.path().join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");

    let Some(disk) = Tmpfs::mount(1024) else {
        return;
    };
    let target = disk.path("target");
    let old_big = vec![b'o'; 100_000];
    write(&target.join("data/big.bin"), &old_big, 0o600);
    write(&target.join("data/small.txt"), b"old small", 0o600);
    write(&target.join("data/sub/inner.txt"), b"old inner", 0o600);
    fs::set_permissions(target.join("data"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(target.join("data/sub"), fs::Permissions::from_mode(0o755)).unwrap();

    let (code, recs, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&target),
        "--force",
    ]);
    assert_eq!(code, 2, "{recs:?}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        fs::read(target.join("data/big.bin")).unwrap() == old_big,
        "the old file was lost"
    );
    // Each smaller file is either still the old one or wholly the new one.
    for (name, old, new) in [
        ("data/small.txt", "old small", "new small"),
        ("data/sub/inner.txt", "old inner", "new inner"),
    ] {
        let now = fs::read_to_string(target.join(name)).unwrap();
        assert!(now == old || now == new, "{name}: {now:?}");
    }
    assert_eq!(names(&target.join("data")), ["big.bin", "small.txt", "sub"]);
    assert_eq!(names(&target.join("data/sub")), ["inner.txt"]);
    assert_eq!(
        (mode(&target.join("data")), mode(&target.join("data/sub"))),
        (0o755, 0o755),
        "a failed restore changed directory modes"
    );

    // With room, the same restore replaces everything and sets the
    // snapshot's modes.
    fs::remove_file(target.join("data/big.bin")).unwrap();
    drop(disk);
    let roomy = tmp.path().join("roomy");
    write(&roomy.join("data/big.bin"), &old_big, 0o600);
    write(&roomy.join("data/small.txt"), b"old small", 0o600);
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&roomy),
        "--force",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(fs::read(roomy.join("data/big.bin")).unwrap() == big);
    assert_eq!(
        fs::read_to_string(roomy.join("data/sub/inner.txt")).unwrap(),
        "new inner"
    );
    assert_eq!(
        (mode(&roomy.join("data")), mode(&roomy.join("data/sub"))),
        (0o750, 0o700)
    );
    assert_eq!(names(&roomy.join("data")), ["big.bin", "small.txt", "sub"]);
}
