//! Interop with numcodecs, the Python library zarr-python encodes and decodes chunks with.
//!
//! Frames from both Blosc writers (c-blosc and the Rust one), zstd, gzip and vlen-utf8 are
//! written to a temporary directory; a Python script decodes each with numcodecs, compares
//! with the input, and encodes the same inputs itself; those frames are then decoded here.
//!
//! Python: `$ZARRIO_PYTHON`, else `/root/.cache/zarrio/venv/bin/python`. Without it the test
//! fails when `CI` is set and is skipped (loudly) otherwise.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use zarrio_core::codec::blosc::{self, pure};
use zarrio_core::codec::{gzip, vlen, zstd, BloscCname, Shuffle};

const CNAMES: [(BloscCname, &str); 5] = [
    (BloscCname::Blosclz, "blosclz"),
    (BloscCname::Lz4, "lz4"),
    (BloscCname::Lz4hc, "lz4hc"),
    (BloscCname::Zlib, "zlib"),
    (BloscCname::Zstd, "zstd"),
];
/// numcodecs spells these 0, 1, 2 (NOSHUFFLE, SHUFFLE, BITSHUFFLE).
const SHUFFLES: [(Shuffle, u8); 3] = [(Shuffle::None, 0), (Shuffle::Byte, 1), (Shuffle::Bit, 2)];
/// numpy dtypes for element sizes 2, 4 and 8.
const TYPES: [(usize, &str); 3] = [(2, "<i2"), (4, "<f4"), (8, "<f8")];

const SCRIPT: &str = r#"
import json, pathlib, sys
import numpy as np
from numcodecs import Blosc, GZip, VLenUTF8, Zstd

d = pathlib.Path(sys.argv[1])
failures = []

# Decode what Rust wrote.
for line in (d / "manifest.tsv").read_text().splitlines():
    codec, name, expected = line.split("\t")
    data = (d / name).read_bytes()
    try:
        if codec == "vlen-utf8":
            want = json.loads((d / expected).read_text())
            got = list(VLenUTF8().decode(data))
            if got != want:
                failures.append(f"{name}: decoded strings differ")
            ours = VLenUTF8().encode(np.array(want, dtype=object))
            if bytes(ours) != data:
                failures.append(f"{name}: numcodecs encodes the strings to other bytes")
            continue
        decoder = {"blosc": Blosc(), "zstd": Zstd(), "gzip": GZip()}[codec]
        got = bytes(decoder.decode(data))
        if got != (d / expected).read_bytes():
            failures.append(f"{name}: decoded bytes differ")
    except Exception as e:
        failures.append(f"{name}: {type(e).__name__}: {e}")

# Encode the same inputs with numcodecs, for Rust to decode.
smooth = (d / "smooth.bin").read_bytes()
for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]:
    for shuffle in [0, 1, 2]:
        for dtype in ["<i2", "<f4", "<f8"]:
            codec = Blosc(cname=cname, clevel=5, shuffle=shuffle)
            frame = codec.encode(np.frombuffer(smooth, dtype=dtype))
            size = np.dtype(dtype).itemsize
            (d / f"numcodecs-blosc-{cname}-{shuffle}-{size}.bin").write_bytes(bytes(frame))
(d / "numcodecs-blosc-memcpy.bin").write_bytes(bytes(Blosc(clevel=0).encode(smooth)))
(d / "numcodecs-zstd.bin").write_bytes(bytes(Zstd(level=3).encode(smooth)))
(d / "numcodecs-gzip.bin").write_bytes(bytes(GZip(level=5).encode(smooth)))
strings = json.loads((d / "strings.json").read_text())
(d / "numcodecs-vlen.bin").write_bytes(bytes(VLenUTF8().encode(np.array(strings, dtype=object))))

print("\n".join(failures))
sys.exit(1 if failures else 0)
"#;

fn python() -> Option<PathBuf> {
    let path = std::env::var_os("ZARRIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root/.cache/zarrio/venv/bin/python"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but the Python with numcodecs is missing: {}",
            path.display()
        );
    }
    eprintln!(
        "\n{}\nSKIPPED codec_numcodecs: no Python at {} (set ZARRIO_PYTHON)\n{}\n",
        "!".repeat(72),
        path.display(),
        "!".repeat(72)
    );
    None
}

/// A slowly varying float32 field, like most gridded geoscience data.
fn smooth(values: usize) -> Vec<u8> {
    let field: Vec<f32> = (0..values)
        .map(|i| 280.0 + 15.0 * (i as f32 * 0.0007).sin() + (i % 97) as f32 * 0.01)
        .collect();
    field.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn random(len: usize) -> Vec<u8> {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

type Compress = fn(&[u8], BloscCname, u8, Shuffle, usize, usize) -> zarrio_core::Result<Vec<u8>>;
type Decompress = fn(&[u8]) -> zarrio_core::Result<Vec<u8>>;

/// The Blosc implementations this build has, by name.
fn blosc_writers() -> Vec<(&'static str, Compress, Decompress)> {
    vec![
        ("rust", pure::compress, pure::decompress),
        #[cfg(feature = "native")]
        (
            "c-blosc",
            blosc::native::compress,
            blosc::native::decompress,
        ),
    ]
}

struct Manifest {
    dir: PathBuf,
    lines: Vec<String>,
}

impl Manifest {
    fn add(&mut self, codec: &str, name: String, bytes: &[u8], expected: &str) {
        fs::write(self.dir.join(&name), bytes).unwrap();
        self.lines.push(format!("{codec}\t{name}\t{expected}"));
    }
}

fn strings() -> Vec<String> {
    let mut items: Vec<String> = ["", "Paris", "Zürich", "東京", "🌍 earth", "tab\there"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    items.extend((0..500).map(|i| format!("station-{i:04}").repeat(i % 5)));
    items
}

#[test]
fn numcodecs_reads_our_frames_and_we_read_its() {
    let Some(python) = python() else { return };
    let dir = std::env::temp_dir().join(format!("zarrio-codec-numcodecs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();

    let inputs = [
        ("smooth", smooth(200_000)),
        ("random", random(50_000)),
        ("tiny", smooth(25)),
    ];
    for (name, bytes) in &inputs {
        fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
    }
    let mut manifest = Manifest {
        dir: dir.clone(),
        lines: Vec::new(),
    };
    for (writer, compress, _) in blosc_writers() {
        for (cname, cname_str) in CNAMES {
            for (shuffle, shuffle_id) in SHUFFLES {
                for (typesize, _) in TYPES {
                    let frame = compress(&inputs[0].1, cname, 5, shuffle, typesize, 0).unwrap();
                    let name = format!("{writer}-blosc-{cname_str}-{shuffle_id}-{typesize}.bin");
                    manifest.add("blosc", name, &frame, "smooth.bin");
                }
            }
            for (input, bytes) in &inputs[1..] {
                let frame = compress(bytes, cname, 5, Shuffle::Byte, 4, 0).unwrap();
                manifest.add(
                    "blosc",
                    format!("{writer}-blosc-{cname_str}-{input}.bin"),
                    &frame,
                    &format!("{input}.bin"),
                );
            }
        }
        let frame = compress(&inputs[0].1, BloscCname::Lz4, 0, Shuffle::Byte, 4, 0).unwrap();
        manifest.add(
            "blosc",
            format!("{writer}-blosc-memcpy.bin"),
            &frame,
            "smooth.bin",
        );
    }
    manifest.add(
        "zstd",
        "rust-zstd.bin".into(),
        &zstd::compress(&inputs[0].1, 3).unwrap(),
        "smooth.bin",
    );
    manifest.add(
        "gzip",
        "rust-gzip.bin".into(),
        &gzip::compress(&inputs[0].1, 5).unwrap(),
        "smooth.bin",
    );
    let strings = strings();
    fs::write(
        dir.join("strings.json"),
        serde_json::to_string(&strings).unwrap(),
    )
    .unwrap();
    manifest.add(
        "vlen-utf8",
        "rust-vlen.bin".into(),
        &vlen::encode(&strings),
        "strings.json",
    );
    fs::write(dir.join("manifest.tsv"), manifest.lines.join("\n")).unwrap();
    fs::write(dir.join("check.py"), SCRIPT).unwrap();

    let run = Command::new(&python)
        .arg(dir.join("check.py"))
        .arg(&dir)
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "numcodecs could not read {} of our frames (files in {}):\n{}\n{}",
        String::from_utf8_lossy(&run.stdout).lines().count(),
        dir.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    let read = |name: &str| fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let smooth = &inputs[0].1;
    let mut checked = 0;
    for (reader, _, decompress) in blosc_writers() {
        for (_, cname_str) in CNAMES {
            for (_, shuffle_id) in SHUFFLES {
                for (typesize, _) in TYPES {
                    let name = format!("numcodecs-blosc-{cname_str}-{shuffle_id}-{typesize}.bin");
                    assert_eq!(
                        &decompress(&read(&name)).unwrap(),
                        smooth,
                        "{reader} reading {name}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(
            &decompress(&read("numcodecs-blosc-memcpy.bin")).unwrap(),
            smooth,
            "{reader}"
        );
    }
    assert_eq!(
        &blosc::decompress(&read("numcodecs-blosc-memcpy.bin")).unwrap(),
        smooth
    );
    assert_eq!(
        &zstd::decompress(&read("numcodecs-zstd.bin")).unwrap(),
        smooth
    );
    assert_eq!(
        &gzip::decompress(&read("numcodecs-gzip.bin")).unwrap(),
        smooth
    );
    assert_eq!(vlen::decode(&read("numcodecs-vlen.bin")).unwrap(), strings);
    assert_eq!(checked, 45 * blosc_writers().len());
    fs::remove_dir_all(&dir).unwrap();
}
