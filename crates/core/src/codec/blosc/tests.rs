//! Blosc frames: round trips through the Rust implementation and, natively, across it and
//! c-blosc in both directions; c-blosc's layout decisions; corrupt input.

use super::frame::{Header, Settings, HEADER_LEN};
use super::pure;
use crate::codec::{BloscCname, Shuffle};

const CNAMES: [BloscCname; 5] = [
    BloscCname::Blosclz,
    BloscCname::Lz4,
    BloscCname::Lz4hc,
    BloscCname::Zlib,
    BloscCname::Zstd,
];
const SHUFFLES: [Shuffle; 3] = [Shuffle::None, Shuffle::Byte, Shuffle::Bit];
const CLEVELS: [u8; 4] = [0, 1, 5, 9];
const TYPESIZES: [usize; 4] = [1, 2, 4, 8];

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// A slowly varying float32 field, like most gridded geoscience data.
fn smooth(len: usize) -> Vec<u8> {
    let values: Vec<f32> = (0..len.div_ceil(4))
        .map(|i| 280.0 + 15.0 * (i as f32 * 0.0007).sin() + (i % 97) as f32 * 0.01)
        .collect();
    bytemuck::cast_slice(&values)[..len].to_vec()
}

/// Quantised values with long runs: compresses 20-100×, and fast even in debug builds.
fn runs(len: usize) -> Vec<u8> {
    let values: Vec<f32> = (0..len.div_ceil(4))
        .map(|i| ((i as f32 * 0.0007).sin() * 100.0).round() * 0.25)
        .collect();
    bytemuck::cast_slice(&values)[..len].to_vec()
}

fn header(frame: &[u8]) -> Header {
    Header::parse(frame).unwrap()
}

/// The block size the rules pick for a large input with these settings.
fn large_input_blocksize(
    cname: BloscCname,
    clevel: u8,
    shuffle: Shuffle,
    typesize: usize,
) -> usize {
    let s = Settings::new(8 << 20, cname, clevel, shuffle, typesize, 0).unwrap();
    Header::for_compression(&s, 8 << 20).blocksize
}

#[derive(Debug, Clone, Copy)]
struct Case {
    cname: BloscCname,
    clevel: u8,
    shuffle: Shuffle,
    typesize: usize,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for cname in CNAMES {
        for shuffle in SHUFFLES {
            for clevel in CLEVELS {
                for typesize in TYPESIZES {
                    cases.push(Case {
                        cname,
                        clevel,
                        shuffle,
                        typesize,
                    });
                }
            }
        }
    }
    cases
}

/// Check one input through every available path, and that the frames are laid out as c-blosc
/// lays them out.
fn check(case: Case, data: &[u8], what: &str) {
    let Case {
        cname,
        clevel,
        shuffle,
        typesize,
    } = case;
    let context = format!("{case:?} {what} of {} bytes", data.len());
    let frame = pure::compress(data, cname, clevel, shuffle, typesize, 0).unwrap();
    let h = header(&frame);
    assert_eq!(h.cbytes, frame.len(), "{context}");
    assert_eq!(h.nbytes, data.len(), "{context}");
    assert!(
        frame.len() <= data.len() + HEADER_LEN,
        "{context}: frame larger than a plain copy"
    );
    assert_eq!(
        pure::decompress(&frame).unwrap(),
        data,
        "{context}: Rust → Rust"
    );
    if what == "runs" && clevel > 0 && data.len() >= 1 << 16 {
        assert!(!h.memcpyed(), "{context}: stored as a plain copy");
        assert!(
            frame.len() < data.len() / 4,
            "{context}: only {} → {}",
            data.len(),
            frame.len()
        );
    }
    if clevel == 0 || data.len() < 128 {
        assert!(h.memcpyed(), "{context}: should be a plain copy");
    }
    #[cfg(feature = "native")]
    {
        use super::native;
        assert_eq!(
            native::decompress(&frame).unwrap(),
            data,
            "{context}: Rust → c-blosc"
        );
        let c_frame = native::compress(data, cname, clevel, shuffle, typesize, 0).unwrap();
        assert_eq!(
            pure::decompress(&c_frame).unwrap(),
            data,
            "{context}: c-blosc → Rust"
        );
        // Same version, codec, flags (up to the plain-copy fallback, which depends on how well
        // each inner codec compresses), typesize, nbytes and blocksize.
        let mut ours = frame[..12].to_vec();
        let mut theirs = c_frame[..12].to_vec();
        if h.memcpyed() != header(&c_frame).memcpyed() {
            ours[2] &= !0x02;
            theirs[2] &= !0x02;
        }
        assert_eq!(ours, theirs, "{context}: header differs from c-blosc's");
    }
}

/// Every cname × shuffle × clevel × typesize on small inputs, which exercise the plain-copy,
/// element-size and single-block rules.
#[test]
fn round_trips_small_inputs() {
    for case in cases() {
        let mut sizes = vec![0, 1, 7, 1000 * case.typesize + 3, 40_000];
        if case.typesize > 2 {
            sizes.push(case.typesize - 1);
        }
        for len in sizes {
            check(case, &random(len, len as u64), "random");
            check(case, &smooth(len), "smooth");
        }
    }
}

/// Exactly one block and several with a short last one, for every cname × shuffle × clevel ×
/// typesize; level 9 (1 MiB blocks, and zstd's slowest level) at one typesize only.
#[test]
fn round_trips_multi_block_inputs() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.clevel > 0 && (c.clevel < 9 || c.typesize == 4))
        .collect();
    crate::par_map(&cases, |&case| {
        let Case {
            cname,
            clevel,
            shuffle,
            typesize,
        } = case;
        let block = large_input_blocksize(cname, clevel, shuffle, typesize);
        let one = runs(block);
        check(case, &one, "runs");
        let frame = pure::compress(&one, cname, clevel, shuffle, typesize, 0).unwrap();
        assert_eq!(header(&frame).nblocks(), 1, "{case:?}");
        let several = runs(2 * block + block / 3 + 1);
        check(case, &several, "runs");
        let frame = pure::compress(&several, cname, clevel, shuffle, typesize, 0).unwrap();
        assert_eq!(header(&frame).nblocks(), 3, "{case:?}");
    });
}

/// Over 4 MiB, compressible and incompressible, for every cname × shuffle.
#[test]
fn round_trips_inputs_over_4_mib() {
    let len = (4 << 20) + 5 * 4 + 3;
    let mut cases = Vec::new();
    for cname in CNAMES {
        for shuffle in SHUFFLES {
            cases.push(Case {
                cname,
                clevel: 5,
                shuffle,
                typesize: 4,
            });
        }
    }
    crate::par_map(&cases, |&case| {
        check(case, &runs(len), "runs");
        check(case, &smooth(len), "smooth");
        check(case, &random(len, 3), "random");
    });
}

/// Half compressible, half random: some splits are stored raw inside a compressed frame.
#[test]
fn mixes_raw_and_compressed_splits() {
    for cname in CNAMES {
        let data = [smooth(300_000), random(300_000, 9)].concat();
        let frame = pure::compress(&data, cname, 5, Shuffle::Byte, 4, 0).unwrap();
        assert!(!header(&frame).memcpyed(), "{cname:?}");
        assert!(frame.len() < data.len() * 3 / 4, "{cname:?}");
        assert_eq!(pure::decompress(&frame).unwrap(), data, "{cname:?}");
        check(
            Case {
                cname,
                clevel: 5,
                shuffle: Shuffle::Byte,
                typesize: 4,
            },
            &data,
            "mixed",
        );
    }
}

#[test]
fn requested_block_sizes_are_honoured_as_c_blosc_does() {
    let data = smooth(1 << 20);
    for cname in CNAMES {
        for requested in [1, 100, 1000, 4096, 1 << 20, 10 << 20] {
            let frame = pure::compress(&data, cname, 5, Shuffle::Byte, 4, requested).unwrap();
            assert_eq!(pure::decompress(&frame).unwrap(), data);
            let blocksize = header(&frame).blocksize;
            assert!(
                blocksize >= 128 && blocksize <= data.len(),
                "{cname:?} {requested}"
            );
            #[cfg(feature = "native")]
            {
                let c_frame =
                    super::native::compress(&data, cname, 5, Shuffle::Byte, 4, requested).unwrap();
                assert_eq!(
                    header(&c_frame).blocksize,
                    blocksize,
                    "{cname:?} {requested}"
                );
                assert_eq!(super::native::decompress(&frame).unwrap(), data);
            }
        }
    }
}

#[test]
fn block_sizes_follow_c_blosc_rules() {
    // Values c-blosc 1.21 picks for a 8 MiB input (typesize 4, byte shuffle).
    for (cname, clevel, expected) in [
        (BloscCname::Zstd, 1, 32 << 10),
        (BloscCname::Zstd, 5, 256 << 10),
        (BloscCname::Zstd, 9, 1 << 20),
        (BloscCname::Lz4, 1, 64 << 10),
        (BloscCname::Lz4, 5, 512 << 10),
        (BloscCname::Lz4hc, 9, 1 << 20),
        (BloscCname::Blosclz, 3, 256 << 10),
        (BloscCname::Zlib, 0, 16 << 10),
    ] {
        assert_eq!(
            large_input_blocksize(cname, clevel, Shuffle::Byte, 4),
            expected,
            "{cname:?} {clevel}"
        );
    }
    // Blocks are whole elements, and never larger than the input.
    let s = Settings::new(1003, BloscCname::Lz4, 5, Shuffle::Byte, 8, 0).unwrap();
    assert_eq!(Header::for_compression(&s, 1003).blocksize, 1000);
    let s = Settings::new(3, BloscCname::Lz4, 5, Shuffle::Byte, 8, 0).unwrap();
    assert_eq!(Header::for_compression(&s, 3).blocksize, 1);
}

#[test]
fn zstd_frames_are_byte_identical_to_c_blosc() {
    #[cfg(feature = "native")]
    for shuffle in SHUFFLES {
        for clevel in [1, 3, 9] {
            let data = smooth(3 << 20);
            let ours = pure::compress(&data, BloscCname::Zstd, clevel, shuffle, 4, 0).unwrap();
            let theirs =
                super::native::compress(&data, BloscCname::Zstd, clevel, shuffle, 4, 0).unwrap();
            assert!(
                ours == theirs,
                "zstd {shuffle:?} clevel {clevel}: frames differ"
            );
        }
    }
}

#[test]
fn output_is_deterministic() {
    let data = smooth(2 << 20);
    for cname in CNAMES {
        let once = pure::compress(&data, cname, 5, Shuffle::Bit, 4, 0).unwrap();
        assert_eq!(
            once,
            pure::compress(&data, cname, 5, Shuffle::Bit, 4, 0).unwrap(),
            "{cname:?}"
        );
        let once = super::compress(&data, cname, 5, Shuffle::Bit, 4, 0).unwrap();
        assert_eq!(
            once,
            super::compress(&data, cname, 5, Shuffle::Bit, 4, 0).unwrap(),
            "{cname:?}"
        );
    }
}

#[test]
fn bad_arguments_are_errors() {
    assert!(pure::compress(b"abc", BloscCname::Lz4, 10, Shuffle::None, 1, 0).is_err());
    assert!(pure::compress(b"abc", BloscCname::Lz4, 5, Shuffle::None, 0, 0).is_err());
    // Element sizes over 255 are treated as bytes, as c-blosc does.
    let data = smooth(100_000);
    let frame = pure::compress(&data, BloscCname::Lz4, 5, Shuffle::Byte, 300, 0).unwrap();
    assert_eq!(header(&frame).typesize, 1);
    assert_eq!(pure::decompress(&frame).unwrap(), data);
}

/// Frames worth mangling: one per inner codec and filter, both writers.
fn sample_frames() -> Vec<Vec<u8>> {
    let data = [smooth(50_000), random(10_000, 5)].concat();
    let mut frames = Vec::new();
    for cname in CNAMES {
        for shuffle in SHUFFLES {
            for (_, compress, _) in implementations() {
                frames.push(compress(&data, cname, 5, shuffle, 4, 0).unwrap());
            }
        }
    }
    frames.push(pure::compress(&data, BloscCname::Lz4, 0, Shuffle::None, 4, 0).unwrap());
    frames
}

type Compress = fn(&[u8], BloscCname, u8, Shuffle, usize, usize) -> crate::Result<Vec<u8>>;
type Decompress = fn(&[u8]) -> crate::Result<Vec<u8>>;

/// The Blosc implementations this build has, by name.
fn implementations() -> Vec<(&'static str, Compress, Decompress)> {
    vec![
        ("rust", pure::compress, pure::decompress),
        #[cfg(feature = "native")]
        (
            "c-blosc",
            super::native::compress,
            super::native::decompress,
        ),
    ]
}

#[test]
fn truncated_frames_are_errors() {
    for frame in sample_frames() {
        for (name, _, decode) in implementations() {
            for cut in (0..frame.len())
                .step_by(frame.len() / 97 + 1)
                .chain([frame.len() - 1])
            {
                assert!(
                    decode(&frame[..cut]).is_err(),
                    "{name}: frame cut to {cut} of {}",
                    frame.len()
                );
            }
        }
    }
}

#[test]
fn corrupted_frames_never_panic() {
    for frame in sample_frames() {
        for (name, _, decode) in implementations() {
            for (i, at) in (0..frame.len()).step_by(frame.len() / 89 + 1).enumerate() {
                let mut bad = frame.clone();
                bad[at] ^= 1 << (i % 8);
                if let Ok(out) = decode(&bad) {
                    // Damage in stored bytes can go unnoticed; the output size cannot.
                    let claimed = Header::parse(&bad).unwrap().nbytes;
                    assert_eq!(out.len(), claimed, "{name}: flipped byte {at}");
                }
            }
        }
    }
}

#[test]
fn corrupt_headers_name_the_problem() {
    let frame = pure::compress(&smooth(100_000), BloscCname::Zstd, 5, Shuffle::Byte, 4, 0).unwrap();
    let error = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bad = frame.clone();
        edit(&mut bad);
        pure::decompress(&bad).unwrap_err().to_string()
    };
    assert!(error(&|f| f[0] = 3).contains("version 3"));
    assert!(error(&|f| f[2] |= 0x08).contains("reserved"));
    assert!(error(&|f| f[2] = (f[2] & 0x1F) | 2 << 5).contains("snappy"));
    assert!(error(&|f| f[2] = (f[2] & 0x1F) | 7 << 5).contains("unknown inner codec"));
    assert!(error(&|f| f[8..12].copy_from_slice(&0u32.to_le_bytes())).contains("blocksize 0"));
    assert!(
        error(&|f| f[16..20].copy_from_slice(&u32::MAX.to_le_bytes())).contains("past the end")
    );
    assert!(error(&|f| f.truncate(10)).contains("shorter than the 16-byte header"));
    assert!(error(&|f| f[12..16].copy_from_slice(&18u32.to_le_bytes())).contains("block starts"));
}

/// c-blosc against the Rust writer and reader on 32 MB of smooth float32, one thread. Run in a
/// release build: `cargo test --release -p zarrio-core --lib throughput -- --ignored --nocapture`.
#[cfg(feature = "native")]
#[test]
#[ignore = "benchmark"]
fn throughput() {
    use std::time::{Duration, Instant};
    let data = smooth(32 << 20);
    let best_of_3 = |f: &dyn Fn() -> Vec<u8>| -> (Duration, Vec<u8>) {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let out = f();
                (start.elapsed(), out)
            })
            .min_by_key(|(time, _)| *time)
            .unwrap()
    };
    let mb_per_s = |time: Duration| data.len() as f64 / 1e6 / time.as_secs_f64();
    for (cname, clevel) in [(BloscCname::Zstd, 3), (BloscCname::Lz4, 5)] {
        for (name, compress, decompress) in implementations() {
            let (c_time, frame) =
                best_of_3(&|| compress(&data, cname, clevel, Shuffle::Byte, 4, 0).unwrap());
            let (d_time, back) = best_of_3(&|| decompress(&frame).unwrap());
            assert_eq!(back, data);
            println!(
                "{name:>7} {cname:?} clevel {clevel} + byte shuffle: compress {:6.0} MB/s, decompress {:6.0} MB/s, ratio {:.2}",
                mb_per_s(c_time),
                mb_per_s(d_time),
                data.len() as f64 / frame.len() as f64
            );
        }
    }
}
