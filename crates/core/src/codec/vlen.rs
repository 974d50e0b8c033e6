//! Variable-length UTF-8 text (numcodecs `VLenUTF8`, zarr v3 `vlen-utf8`): a `u32` item count,
//! then each item as a `u32` byte length and its UTF-8 bytes, all little-endian.

use crate::{CoreError, Result};

/// Chunks hold far fewer than 2^32 items, each far shorter than 4 GiB (Blosc frames stop at
/// 2 GiB), so the `u32` fields cannot overflow.
pub fn encode(items: &[String]) -> Vec<u8> {
    let len = 4 + items.iter().map(|s| 4 + s.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&u32_len(items.len()).to_le_bytes());
    for item in items {
        out.extend_from_slice(&u32_len(item.len()).to_le_bytes());
        out.extend_from_slice(item.as_bytes());
    }
    out
}

fn u32_len(n: usize) -> u32 {
    u32::try_from(n).expect("vlen-utf8 counts and lengths fit in u32")
}

pub fn decode(bytes: &[u8]) -> Result<Vec<String>> {
    let mut pos = 0;
    let mut take = |n: usize, what: &dyn Fn() -> String| -> Result<&[u8]> {
        let slice = bytes.get(pos..pos + n).ok_or_else(|| {
            CoreError::Codec(format!(
                "vlen-utf8 data truncated: {} at byte {pos} needs {n} bytes, {} left",
                what(),
                bytes.len() - pos
            ))
        })?;
        pos += n;
        Ok(slice)
    };
    let read_u32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let count = read_u32(take(4, &|| "the item count".into())?);
    // Each item takes at least 4 bytes: don't let a corrupt count reserve more than that.
    let mut items = Vec::with_capacity(count.min(bytes.len() / 4));
    for i in 0..count {
        let len = read_u32(take(4, &|| format!("the length of item {i}"))?);
        let text = take(len, &|| format!("item {i}"))?;
        let text = std::str::from_utf8(text)
            .map_err(|e| CoreError::Codec(format!("vlen-utf8 item {i} is not valid UTF-8: {e}")))?;
        items.push(text.to_owned());
    }
    if pos != bytes.len() {
        return Err(CoreError::Codec(format!(
            "vlen-utf8 data has {} bytes after its {count} items",
            bytes.len() - pos
        )));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layout_is_count_then_length_prefixed_items() {
        let bytes = encode(&strings(&["ab", "", "é"]));
        assert_eq!(
            bytes,
            [3, 0, 0, 0, 2, 0, 0, 0, b'a', b'b', 0, 0, 0, 0, 2, 0, 0, 0, 0xC3, 0xA9]
        );
        assert_eq!(encode(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn round_trips() {
        for items in [
            strings(&[]),
            strings(&[""]),
            strings(&["Paris", "Zürich", "東京", "🌍 earth", "a\0b"]),
            (0..1000).map(|i| "x".repeat(i % 37)).collect(),
        ] {
            assert_eq!(decode(&encode(&items)).unwrap(), items);
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let bytes = encode(&strings(&["hello", "world"]));
        let message = |b: &[u8]| decode(b).unwrap_err().to_string();
        assert!(message(&bytes[..2]).contains("item count"));
        assert!(message(&bytes[..11]).contains("item 0"));
        assert!(message(&bytes[..15]).contains("the length of item 1"));
        assert!(message(&bytes[..bytes.len() - 1]).contains("item 1"));
        assert!(message(&[bytes.as_slice(), &[0]].concat()).contains("after its 2 items"));
        let mut bad = bytes.clone();
        bad[8] = 0xFF;
        assert!(message(&bad).contains("item 0 is not valid UTF-8"));
        // A huge count with no items must fail cleanly, not reserve memory for them.
        assert!(message(&[0xFF, 0xFF, 0xFF, 0xFF]).contains("item 0"));
    }
}
