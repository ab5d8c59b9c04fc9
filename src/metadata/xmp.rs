//! XMP edits: removing where a photo was taken, resetting and reading the orientation.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};
use quick_xml::reader::NsReader;

/// Reads `tiff:Orientation` (1-8) from an XMP packet, in attribute or element form.
pub fn xmp_orientation(xmp: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(xmp).ok()?;
    let at = text.find("tiff:Orientation")? + "tiff:Orientation".len();
    let value = text[at..].trim_start_matches(['=', '"', '\'', '>']);
    let digit = value.bytes().next().filter(u8::is_ascii_digit)? - b'0';
    (1..=8).contains(&digit).then_some(digit)
}

/// The EXIF schema, where XMP keeps its copy of the GPS IFD (`GPSLatitude`, ...).
const EXIF: &str = "http://ns.adobe.com/exif/1.0/";
/// Schemas that could hold a GPS property too: CIPA's Exif 2.3 extension and Adobe's
/// auxiliary EXIF. Neither defines one today; a writer that puts one there still means it.
const EXIF_EX: &str = "http://cipa.jp/exif/1.0/";
const EXIF_AUX: &str = "http://ns.adobe.com/exif/1.0/aux/";
const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
const IPTC_CORE: &str = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";
const IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";

/// Whether the property `local` of the schema `namespace` says where the photo was taken:
/// the GPS copy of EXIF, Photoshop's (IPTC Core 1.0's) place names, IPTC Core's location
/// and country code, and IPTC Extension's location structures and every field they hold
/// (LocationDetails), wherever one turns up.
fn is_location(namespace: &str, local: &str) -> bool {
    match namespace {
        EXIF | EXIF_EX | EXIF_AUX => local.starts_with("GPS"),
        PHOTOSHOP => matches!(local, "City" | "State" | "Country"),
        IPTC_CORE => matches!(local, "Location" | "CountryCode"),
        IPTC_EXT => matches!(
            local,
            "LocationCreated"
                | "LocationShown"
                | "City"
                | "CountryCode"
                | "CountryName"
                | "ProvinceState"
                | "Sublocation"
                | "WorldRegion"
                | "LocationId"
                | "LocationName"
        ),
        _ => false,
    }
}

/// Why an XMP packet was not carried under `strip-gps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Removes every location property ([`is_location`]) from an XMP packet, by namespace URI
/// and local name, so any prefix (or a default namespace) is caught: attributes of an
/// element (`e:GPSLatitude="…"` on `rdf:Description`) and whole elements with everything in
/// them (`<City>…</City>`, `<Iptc4xmpExt:LocationCreated>` structs). Everything else is copied
/// as it was, the `<?xpacket?>` wrapper and its padding included (see [`packet_text`] for
/// the two exceptions), so the result is as well-formed as the input was checked to be.
///
/// Refuses (Err) a packet that is not well-formed, namespace-aware XML: not UTF-8 or
/// UTF-16, unbalanced tags, an undeclared prefix, a DTD or an entity it would define, no
/// element at all. A reader more lenient than this parser could still find a location in
/// such a packet, so the caller drops it whole.
pub fn remove_xmp_location(xmp: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let text = packet_text(xmp)?;
    let text = text.as_ref();
    let fail = |what: &dyn std::fmt::Display| Unreadable(what.to_string());
    let mut reader = NsReader::from_str(text);
    reader.config_mut().enable_all_checks(true);
    let mut out = String::with_capacity(text.len());
    // Input up to `copied` is already in `out` (or deliberately left out of it).
    let mut copied = 0;
    let mut depth = 0usize;
    let mut saw_element = false;
    // While inside a location element: the depth it opened at, and where it began.
    let mut skipping: Option<(usize, usize)> = None;
    loop {
        let event_start = position(&reader)?;
        let (element_ns, event) = reader.read_resolved_event().map_err(|e| fail(&e))?;
        let element_is_location = match (&element_ns, &event) {
            (ResolveResult::Unknown(prefix), _) => {
                return Err(fail(&format!("the prefix {prefix} is not declared")));
            }
            (ResolveResult::Bound(ns), Event::Start(tag) | Event::Empty(tag)) => {
                is_location(ns.0, tag.local_name().as_ref())
            }
            _ => false,
        };
        let event_end = position(&reader)?;
        let (tag, empty) = match event {
            Event::Start(tag) => (tag, false),
            Event::Empty(tag) => (tag, true),
            Event::End(_) => {
                if let Some((_, began)) = skipping.filter(|&(opened_at, _)| opened_at == depth) {
                    out.push_str(&text[copied..began]);
                    copied = event_end;
                    skipping = None;
                }
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| fail(&"an end tag with no start"))?;
                continue;
            }
            Event::DocType(_) => return Err(fail(&"a DTD, whose entities could hide markup")),
            Event::GeneralRef(r) if !r.is_char_ref() && !PREDEFINED.contains(&r.as_ref()) => {
                return Err(fail(&format!("the undefined entity &{};", r.as_ref())));
            }
            Event::Eof => break,
            _ => continue,
        };
        saw_element = true;
        if !empty {
            depth += 1;
        }
        // Every attribute is read, even inside a removed element: a malformed one or an
        // undeclared prefix anywhere makes the whole packet suspect.
        let mut kept = Vec::new();
        let mut dropped = false;
        for attribute in tag.attributes() {
            let attribute = attribute.map_err(|e| fail(&e))?;
            if location_attribute(&reader, attribute.key)? {
                dropped = true;
            } else {
                kept.push(attribute);
            }
        }
        if skipping.is_some() {
            continue;
        }
        if element_is_location {
            if empty {
                out.push_str(&text[copied..event_start]);
                copied = event_end;
            } else {
                skipping = Some((depth, event_start));
            }
        } else if dropped {
            out.push_str(&text[copied..event_start]);
            out.push('<');
            out.push_str(tag.name().as_ref());
            for attribute in kept {
                // Re-quoted with `"`: a value once in `'…'` may hold a bare `"`.
                out.push_str(&format!(
                    " {}=\"{}\"",
                    attribute.key.as_ref(),
                    attribute.value.replace('"', "&quot;")
                ));
            }
            out.push_str(if empty { "/>" } else { ">" });
            copied = event_end;
        }
    }
    if depth != 0 {
        return Err(fail(&"an element is not closed"));
    }
    if !saw_element {
        return Err(fail(&"no element: not XMP"));
    }
    out.push_str(&text[copied..]);
    Ok(out.into_bytes())
}

/// The packet as text. XMP may be UTF-16 outside JPEG; it is written back as UTF-8, which
/// every container takes. The packet ends at its `<?xpacket end=…?>` trailer: some writers
/// leave stray bytes after it, which are not XMP and are left out (white space stays).
fn packet_text(xmp: &[u8]) -> Result<Cow<'_, str>, Unreadable> {
    let utf16 = |unit: fn([u8; 2]) -> u16| -> (Cow<'_, str>, bool) {
        let units = xmp.chunks_exact(2).map(|c| unit([c[0], c[1]]));
        let mut text = String::with_capacity(xmp.len() / 2);
        let mut whole = xmp.len().is_multiple_of(2);
        for c in char::decode_utf16(units) {
            match c {
                // The byte-order mark has no place in the UTF-8 result.
                Ok('\u{feff}') if text.is_empty() => {}
                Ok(c) => text.push(c),
                Err(_) => {
                    whole = false;
                    break;
                }
            }
        }
        (Cow::Owned(text), whole)
    };
    // The longest stretch that decodes, and whether that is all of it.
    let (text, whole) = match xmp {
        [0, b'<', ..] | [0xfe, 0xff, ..] => utf16(u16::from_be_bytes),
        [b'<', 0, ..] | [0xff, 0xfe, ..] => utf16(u16::from_le_bytes),
        _ => match std::str::from_utf8(xmp) {
            Ok(text) => (Cow::Borrowed(text), true),
            Err(e) => (
                Cow::Borrowed(std::str::from_utf8(&xmp[..e.valid_up_to()]).unwrap_or("")),
                false,
            ),
        },
    };
    let trailer_end = text
        .find("<?xpacket end=")
        .and_then(|at| Some(at + text[at..].find("?>")? + 2))
        .filter(|&end| !(whole && text[end..].trim_ascii().is_empty()));
    match (trailer_end, text) {
        (Some(end), Cow::Borrowed(text)) => Ok(Cow::Borrowed(&text[..end])),
        (Some(end), Cow::Owned(mut text)) => {
            text.truncate(end);
            Ok(Cow::Owned(text))
        }
        (None, text) if whole => Ok(text),
        (None, _) => Err(Unreadable("not UTF-8 or UTF-16 text".into())),
    }
}

/// The entities XML defines without a DTD.
const PREDEFINED: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

fn position(reader: &NsReader<&[u8]>) -> Result<usize, Unreadable> {
    usize::try_from(reader.buffer_position()).map_err(|_| Unreadable("too large".into()))
}

fn is_location_name(namespace: &ResolveResult, local: &str) -> bool {
    matches!(namespace, ResolveResult::Bound(ns) if is_location(ns.0, local))
}

/// Whether an attribute is a location property. Namespaces in XML give an unprefixed
/// attribute no namespace, but a lenient reader may put it in the default namespace, so
/// both readings are checked. `xmlns` declarations are not properties. An undeclared prefix
/// is refused: a reader going by prefix could take `exif:GPSLatitude` at its word.
fn location_attribute(reader: &NsReader<&[u8]>, key: QName) -> Result<bool, Unreadable> {
    if key.as_namespace_binding().is_some() {
        return Ok(false);
    }
    let resolver = reader.resolver();
    let (strict, local) = resolver.resolve_attribute(key);
    if let ResolveResult::Unknown(prefix) = &strict {
        return Err(Unreadable(format!("the prefix {prefix} is not declared")));
    }
    let (lenient, _) = resolver.resolve(key, true);
    Ok(is_location_name(&strict, local.as_ref()) || is_location_name(&lenient, local.as_ref()))
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
mod tests;
