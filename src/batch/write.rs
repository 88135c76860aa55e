//! Writing a batch: header, manifest, checksummed records, signature; then (usually) age.

use sha2::{Digest, Sha256};

use super::{BatchError, DeviceKey, MAGIC, Manifest, Record, to_hex};
use crate::seal::{self, SealRecipient};

/// The signed, unencrypted batch: the exact bytes `BATCH_FORMAT.md` describes.
pub fn write(
    manifest: &Manifest,
    records: &[Record],
    key: &DeviceKey,
) -> Result<Vec<u8>, BatchError> {
    if manifest.device_key != key.public() {
        return Err(BatchError::Write(
            "the manifest names another device key than the one signing it".into(),
        ));
    }
    let mut out = format!("{MAGIC} {}\n", manifest.format).into_bytes();
    out.extend(json(manifest)?);
    out.push(b'\n');
    for record in records {
        let body = json(record)?;
        out.extend(format!("sha256:{} ", to_hex(&Sha256::digest(&body))).into_bytes());
        out.extend(body);
        out.push(b'\n');
    }
    let signature = key.sign(&out);
    out.extend(format!("ed25519:{}\n", to_hex(&signature)).into_bytes());
    Ok(out)
}

/// The signed batch, age-encrypted to the coordinator's recipient.
pub fn write_encrypted(
    manifest: &Manifest,
    records: &[Record],
    key: &DeviceKey,
    recipient: &SealRecipient,
) -> Result<Vec<u8>, BatchError> {
    let plain = write(manifest, records, key)?;
    seal::encrypt_file(recipient, &plain).map_err(|e| BatchError::Write(e.to_string()))
}

/// One line of JSON (serde_json never writes a raw newline).
fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, BatchError> {
    serde_json::to_vec(value).map_err(|e| BatchError::Write(e.to_string()))
}
