//! What a disk image file is, read from its header: qcow2 carries its virtual size there; a raw
//! image's virtual size is its length.

use std::io::Read as _;
use std::path::Path;

use strata_metadata::ImageFormat;

use crate::ProvisionError;
use crate::error::io;

const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";

/// The format and virtual size of an image file.
pub fn probe(path: &Path) -> Result<(ImageFormat, u64), ProvisionError> {
    let mut file = std::fs::File::open(path).map_err(io("open", path))?;
    let len = file.metadata().map_err(io("read", path))?.len();
    let mut header = [0u8; 32];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]).map_err(io("read", path))? {
            0 => break,
            n => got += n,
        }
    }
    if got >= 32 && header[..4] == QCOW2_MAGIC {
        let size = u64::from_be_bytes(header[24..32].try_into().expect("8 bytes"));
        Ok((ImageFormat::Qcow2, size))
    } else {
        Ok((ImageFormat::Raw, len))
    }
}

/// The virtual size of `path`, refusing a file that is not of `format`.
pub fn virtual_size(path: &Path, format: ImageFormat) -> Result<u64, ProvisionError> {
    let (found, size) = probe(path)?;
    if found != format {
        return Err(ProvisionError::NotAnImage {
            path: path.to_owned(),
            expected: format_name(format),
            found: format!("it is {}", format_name(found)),
        });
    }
    Ok(size)
}

/// `qcow2` or `raw`, as qemu-img names them.
pub fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Qcow2 => "qcow2",
        ImageFormat::Raw => "raw",
    }
}
