//! ZIP archives written by hand, so the tests control every field a reader trusts.

use std::io::Write;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;

/// One entry to write: path, contents, deflated or stored, general-purpose flags.
pub struct Put<'a>(pub &'a str, pub &'a [u8], pub bool, pub u16);

/// The archive holding `entries`, in order.
pub fn zip(entries: &[Put]) -> Vec<u8> {
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for Put(name, data, deflate, flags) in entries {
        let packed = if *deflate {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let method: u16 = if *deflate { 8 } else { 0 };
        let common = |b: &mut Vec<u8>| {
            for v in [20u16, *flags, method, 0, 0] {
                b.extend(v.to_le_bytes());
            }
            b.extend(crc32fast::hash(data).to_le_bytes());
            b.extend((packed.len() as u32).to_le_bytes());
            b.extend((data.len() as u32).to_le_bytes());
            b.extend((name.len() as u16).to_le_bytes());
            b.extend(0u16.to_le_bytes());
        };
        let offset = out.len() as u32;
        out.extend(LOCAL_HEADER.to_le_bytes());
        common(&mut out);
        out.extend(name.as_bytes());
        out.extend(&packed);
        directory.extend(DIRECTORY_ENTRY.to_le_bytes());
        directory.extend(20u16.to_le_bytes());
        common(&mut directory);
        for v in [0u16, 0, 0, 0, 0] {
            directory.extend(v.to_le_bytes()); // comment length, disk, internal and external attributes
        }
        directory.extend(offset.to_le_bytes());
        directory.extend(name.as_bytes());
    }
    let directory_at = out.len() as u32;
    out.extend(&directory);
    out.extend(END_OF_DIRECTORY.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend(v.to_le_bytes());
    }
    out.extend((directory.len() as u32).to_le_bytes());
    out.extend(directory_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}
