//! Photos on upload: their metadata removed (EXIF and XMP carry the phone's location
//! and serial number) and a small preview made. Both read the whole image, so the
//! caller runs them on a blocking thread, a few at a time.

use image::{ImageFormat, ImageReader, Limits};

use super::kinds::FileType;

/// The longest side of a preview, in pixels.
pub const PREVIEW_SIDE: u32 = 320;
/// Images larger than this (either side) are refused rather than decoded.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// A preview (JPEG) and the original's size in pixels.
#[derive(Debug)]
pub struct Preview {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("the image cannot be read: {0}")]
pub struct ImageError(pub String);

/// The preview of an image of type `kind`.
pub fn preview(bytes: &[u8], kind: FileType) -> Result<Preview, ImageError> {
    let format = match kind {
        FileType::Jpeg => ImageFormat::Jpeg,
        FileType::Png => ImageFormat::Png,
        FileType::Webp => ImageFormat::WebP,
        other => return Err(ImageError(format!("{} is not an image", other.as_str()))),
    };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|error| ImageError(error.to_string()))?;
    let (width, height) = (image.width(), image.height());
    let small = image.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&small)
        .map_err(|error| ImageError(error.to_string()))?;
    Ok(Preview {
        jpeg,
        width,
        height,
    })
}

/// `bytes` without their EXIF and XMP metadata (JPEG APP1 and APP13 segments, PNG
/// `eXIf`, `tEXt`/`zTXt`/`iTXt` chunks and anything after `IEND`, WebP `EXIF`/`XMP `
/// chunks); `None` when there was none. Pixels are not touched. A structure that
/// cannot be walked is refused, so no metadata is ever kept by mistake.
pub fn without_metadata(bytes: &[u8], kind: FileType) -> Result<Option<Vec<u8>>, ImageError> {
    let walked = match kind {
        FileType::Jpeg => jpeg_without_metadata(bytes),
        FileType::Png => png_without_metadata(bytes),
        FileType::Webp => webp_without_metadata(bytes),
        _ => return Ok(None),
    };
    match walked {
        Some((clean, true)) => Ok(Some(clean)),
        Some((_, false)) => Ok(None),
        None => Err(ImageError(format!(
            "the {} structure is broken",
            kind.as_str()
        ))),
    }
}

fn jpeg_without_metadata(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut at = 2;
    let mut removed = false;
    loop {
        let marker = *bytes.get(at + 1)?;
        if bytes[at] != 0xFF {
            return None;
        }
        // Start of scan: the rest is image data.
        if marker == 0xDA {
            out.extend_from_slice(&bytes[at..]);
            break;
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let end = at + 2 + length;
        let segment = bytes.get(at..end)?;
        // APP1 holds EXIF and XMP; APP13 holds Photoshop's IPTC.
        if marker == 0xE1 || marker == 0xED {
            removed = true;
        } else {
            out.extend_from_slice(segment);
        }
        at = end;
    }
    Some((out, removed))
}

fn png_without_metadata(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = SIGNATURE.len();
    let mut removed = false;
    while at < bytes.len() {
        let length = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        let end = at + 12 + length;
        let chunk = bytes.get(at..end)?;
        if matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            removed = true;
        } else {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            // Whatever follows the image's end is not the image: it goes too.
            removed |= at < bytes.len();
            break;
        }
    }
    Some((out, removed))
}

fn webp_without_metadata(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut body = Vec::with_capacity(bytes.len());
    body.extend_from_slice(b"WEBP");
    let mut at = 12;
    let mut removed = false;
    while at < bytes.len() {
        let kind = bytes.get(at..at + 4)?;
        let length = u32::from_le_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        let end = at + 8 + length + (length & 1);
        let chunk = bytes.get(at..end.min(bytes.len()))?;
        if matches!(kind, b"EXIF" | b"XMP ") {
            removed = true;
        } else if kind == b"VP8X" {
            let mut chunk = chunk.to_vec();
            // The extended header's flags say which metadata follows: clear EXIF and XMP.
            if let Some(flags) = chunk.get_mut(8) {
                *flags &= !(0x08 | 0x04);
            }
            body.extend_from_slice(&chunk);
        } else {
            body.extend_from_slice(chunk);
        }
        at = end;
    }
    if !removed {
        return Some((bytes.to_vec(), false));
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(body.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&body);
    Some((out, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;

    fn jpeg_with_exif() -> Vec<u8> {
        let image = image::RgbImage::from_pixel(640, 480, image::Rgb([200, 30, 30]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
            .encode_image(&image)
            .expect("encode");
        let exif = b"Exif\0\0MM\0*\0\0\0\x08GPS 55.75N 37.62E";
        let mut with = plain[..2].to_vec();
        with.extend_from_slice(&[0xFF, 0xE1]);
        with.extend_from_slice(&u16::try_from(exif.len() + 2).expect("short").to_be_bytes());
        with.extend_from_slice(exif);
        with.extend_from_slice(&plain[2..]);
        with
    }

    #[test]
    fn exif_is_removed_and_the_picture_kept() {
        let photo = jpeg_with_exif();
        let clean = without_metadata(&photo, FileType::Jpeg)
            .expect("walks")
            .expect("had EXIF");
        assert!(!clean.windows(4).any(|window| window == b"Exif"));
        assert!(!clean.windows(3).any(|window| window == b"GPS"));
        let preview = preview(&clean, FileType::Jpeg).expect("decodes");
        assert_eq!((preview.width, preview.height), (640, 480));
        assert!(
            without_metadata(&clean, FileType::Jpeg)
                .expect("walks")
                .is_none()
        );
        assert!(
            without_metadata(&clean[..40], FileType::Jpeg).is_err(),
            "cut short"
        );
    }

    #[test]
    fn a_preview_is_small_and_has_no_metadata() {
        let preview = preview(&jpeg_with_exif(), FileType::Jpeg).expect("decodes");
        let decoded = image::load_from_memory(&preview.jpeg).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (PREVIEW_SIDE, 240));
        assert!(!preview.jpeg.windows(4).any(|window| window == b"Exif"));
    }

    #[test]
    fn png_text_chunks_go() {
        let image = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(image.as_raw(), 4, 4, image::ExtendedColorType::Rgb8)
            .expect("encode");
        let mut chunk = Vec::new();
        let data = b"Comment\0taken at home";
        chunk.extend_from_slice(&u32::try_from(data.len()).expect("short").to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        let mut with = png[..33].to_vec();
        with.extend_from_slice(&chunk);
        with.extend_from_slice(&png[33..]);
        let clean = without_metadata(&with, FileType::Png)
            .expect("walks")
            .expect("had text");
        assert_eq!(clean, png);
        let mut trailing = png.clone();
        trailing.extend_from_slice(b"hidden after the end");
        let clean = without_metadata(&trailing, FileType::Png)
            .expect("walks")
            .expect("had a tail");
        assert_eq!(clean, png);
    }

    #[test]
    fn garbage_is_not_an_image() {
        assert!(preview(b"\xFF\xD8\xFF\xE0 not really", FileType::Jpeg).is_err());
    }
}
