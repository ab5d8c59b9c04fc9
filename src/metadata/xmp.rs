//! XMP edits: removing where a photo was taken, resetting and reading the orientation.

/// Reads `tiff:Orientation` (1-8) from an XMP packet, in attribute or element form.
pub fn xmp_orientation(xmp: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(xmp).ok()?;
    let at = text.find("tiff:Orientation")? + "tiff:Orientation".len();
    let value = text[at..].trim_start_matches(['=', '"', '\'', '>']);
    let digit = value.bytes().next().filter(u8::is_ascii_digit)? - b'0';
    (1..=8).contains(&digit).then_some(digit)
}

/// XMP properties that say where a photo was taken: the GPS copy in the EXIF namespace, and
/// the place names of the IPTC and Photoshop schemas. Matched as name prefixes.
const XMP_LOCATION_FIELDS: [&str; 8] = [
    "exif:GPS",
    "photoshop:City",
    "photoshop:State",
    "photoshop:Country",
    "Iptc4xmpCore:Location",
    "Iptc4xmpCore:CountryCode",
    "Iptc4xmpExt:LocationCreated",
    "Iptc4xmpExt:LocationShown",
];

/// Removes [`XMP_LOCATION_FIELDS`] from an XMP packet, in attribute form (`exif:GPSLatitude="…"`)
/// and element form (`<exif:GPSLatitude>…</exif:GPSLatitude>`). None if the packet is not
/// text or a field cannot be delimited: the caller then drops the XMP rather than risk
/// keeping the location.
pub fn remove_xmp_location(xmp: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(xmp).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = XMP_LOCATION_FIELDS
        .iter()
        .filter_map(|field| rest.find(field))
        .min()
    {
        let name_len = rest[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.')))
            .unwrap_or(rest.len() - at);
        let (before, field) = rest.split_at(at);
        let (name, after) = field.split_at(name_len);
        if let Some(head) = before.strip_suffix('<') {
            // Element: up to its closing tag, or the end of a self-closing tag.
            let tag_end = after.find('>')?;
            let end = if after[..tag_end].ends_with('/') {
                tag_end + 1
            } else {
                let close = format!("</{name}>");
                after.find(&close)? + close.len()
            };
            out.push_str(head);
            rest = &after[end..];
        } else if before.ends_with(char::is_whitespace) && after.starts_with('=') {
            // Attribute: name="value" or name='value', with the space before it.
            let quote = after[1..]
                .chars()
                .next()
                .filter(|q| matches!(q, '"' | '\''))?;
            let end = 2 + after[2..].find(quote)? + 1;
            out.push_str(before.trim_end());
            rest = &after[end..];
        } else {
            out.push_str(before);
            out.push_str(name);
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out.into_bytes())
}

/// XMP repeats the orientation as `tiff:Orientation`, as an attribute or an element.
pub(super) fn reset_xmp_orientation(xmp: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(xmp) else {
        return xmp.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    const KEY: &str = "tiff:Orientation";
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        // Attribute form: tiff:Orientation="6"; element form: <tiff:Orientation>6</...>.
        let value_start = match tail.as_bytes() {
            [b'=', b'"' | b'\'', ..] => 2,
            [b'>', ..] => 1,
            _ => {
                rest = tail;
                continue;
            }
        };
        let digits = tail[value_start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        out.push_str(&tail[..value_start]);
        if digits > 0 {
            out.push('1');
        }
        rest = &tail[value_start + digits..];
    }
    out.push_str(rest);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_orientation_is_read_in_both_forms() {
        assert_eq!(xmp_orientation(br#"<x tiff:Orientation="6"/>"#), Some(6));
        assert_eq!(
            xmp_orientation(b"<tiff:Orientation>3</tiff:Orientation>"),
            Some(3)
        );
        assert_eq!(
            xmp_orientation(b"<tiff:Orientation>9</tiff:Orientation>"),
            None
        );
    }

    #[test]
    fn xmp_orientation_is_reset_in_both_forms() {
        let xmp = br#"<x tiff:Orientation="6"/><tiff:Orientation>8</tiff:Orientation>"#;
        let out = String::from_utf8(reset_xmp_orientation(xmp)).unwrap();
        assert_eq!(
            out,
            r#"<x tiff:Orientation="1"/><tiff:Orientation>1</tiff:Orientation>"#
        );
    }

    #[test]
    fn xmp_location_goes_in_attribute_element_and_struct_form() {
        let xmp = concat!(
            r#"<rdf:Description exif:GPSLatitude="43,28.2N" exif:DateTimeOriginal="2008:10:22" "#,
            r#"exif:GPSLongitude='11,52.9E'><photoshop:City>Firenze</photoshop:City>"#,
            r#"<exif:GPSVersionID>2.2.0.0</exif:GPSVersionID><Iptc4xmpExt:LocationShown/>"#,
            r#"<Iptc4xmpExt:LocationCreated rdf:parseType="Resource"><Iptc4xmpExt:City>Firenze"#,
            r#"</Iptc4xmpExt:City></Iptc4xmpExt:LocationCreated><tiff:Make>NIKON</tiff:Make>"#,
            r#"</rdf:Description>"#
        );
        let out = String::from_utf8(remove_xmp_location(xmp.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out,
            concat!(
                r#"<rdf:Description exif:DateTimeOriginal="2008:10:22">"#,
                r#"<tiff:Make>NIKON</tiff:Make></rdf:Description>"#
            )
        );
    }

    #[test]
    fn xmp_with_an_unclosed_location_is_refused() {
        assert_eq!(remove_xmp_location(b"<photoshop:City>Firenze"), None);
        assert_eq!(remove_xmp_location(b"<x exif:GPSLatitude=\"43"), None);
        assert_eq!(remove_xmp_location(b"\xff\xfe"), None);
    }
}
