//! XMP edits on hand-made packets: every spelling of a location goes, the rest stays.

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

/// Wraps rdf:Description attributes and content in a packet, the way writers do.
fn packet(declarations: &str, attributes: &str, content: &str) -> String {
    format!(
        concat!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>",
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">",
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">",
            "<rdf:Description rdf:about=\"\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" {}",
            " tiff:Make=\"NIKON\"{}>{}<tiff:Model>P6000</tiff:Model></rdf:Description>",
            "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
        ),
        declarations, attributes, content
    )
}

fn strip(xmp: &str) -> String {
    let out = remove_xmp_location(xmp.as_bytes()).expect("well-formed XMP is edited");
    let out = String::from_utf8(out).unwrap();
    // The result must itself parse, with every namespace declared.
    assert!(remove_xmp_location(out.as_bytes()).is_ok(), "{out}");
    out
}

#[test]
fn gps_goes_under_any_prefix_in_attribute_and_element_form() {
    let xmp = packet(
        r#"xmlns:e="http://ns.adobe.com/exif/1.0/""#,
        r#" e:GPSLatitude="43,28.0468N" e:DateTimeOriginal="2008-10-22""#,
        "<e:GPSLongitude>11,53.1077E</e:GPSLongitude><e:GPSVersionID/>",
    );
    let out = strip(&xmp);
    assert!(!out.contains("GPS"), "{out}");
    assert!(out.contains(r#"e:DateTimeOriginal="2008-10-22""#), "{out}");
    assert!(
        out.contains(r#"tiff:Make="NIKON""#) && out.contains("P6000"),
        "{out}"
    );
    assert!(out.starts_with("<?xpacket begin") && out.ends_with("<?xpacket end=\"w\"?>"));
}

#[test]
fn location_goes_under_a_default_namespace() {
    let xmp = packet(
        "",
        "",
        concat!(
            r#"<GPSAltitude xmlns="http://ns.adobe.com/exif/1.0/">42/1</GPSAltitude>"#,
            r#"<rdf:Description xmlns="http://ns.adobe.com/photoshop/1.0/">"#,
            "<City>Firenze</City><Credit>Me</Credit></rdf:Description>"
        ),
    );
    let out = strip(&xmp);
    assert!(!out.contains("42/1") && !out.contains("Firenze"), "{out}");
    assert!(out.contains("<Credit>Me</Credit>"), "{out}");
}

#[test]
fn photoshop_places_go_as_attributes_and_as_elements() {
    let xmp = packet(
        r#"xmlns:ps="http://ns.adobe.com/photoshop/1.0/""#,
        r#" ps:City='Firenze' ps:Credit='say "cheese"' ps:State="Toscana""#,
        "<ps:Country>Italia</ps:Country><ps:Headline>Duomo</ps:Headline>",
    );
    let out = strip(&xmp);
    for place in ["Firenze", "Toscana", "Italia"] {
        assert!(!out.contains(place), "{place}: {out}");
    }
    // A kept value that held a bare `"` inside '…' is re-quoted and stays well-formed.
    assert!(
        out.contains(r#"ps:Credit="say &quot;cheese&quot;""#),
        "{out}"
    );
    assert!(out.contains("<ps:Headline>Duomo</ps:Headline>"), "{out}");
}

#[test]
fn iptc_location_structs_and_core_fields_go_whole() {
    let xmp = packet(
        concat!(
            r#"xmlns:ext="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" "#,
            r#"xmlns:core="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/""#
        ),
        r#" core:CountryCode="IT" core:IntellectualGenre="travel""#,
        concat!(
            r#"<core:Location>Duomo</core:Location>"#,
            r#"<ext:LocationCreated><rdf:Bag><rdf:li rdf:parseType="Resource">"#,
            "<ext:City>Firenze</ext:City><ext:LocationCreated>nested</ext:LocationCreated>",
            r#"</rdf:li></rdf:Bag></ext:LocationCreated>"#,
            r#"<ext:LocationShown><rdf:Bag><rdf:li><rdf:Description ext:CountryName="Italia"/>"#,
            r#"</rdf:li></rdf:Bag></ext:LocationShown><ext:PersonInImage>Ann</ext:PersonInImage>"#
        ),
    );
    let out = strip(&xmp);
    for place in ["\"IT\"", "Duomo", "Firenze", "nested", "Italia", "Location"] {
        assert!(!out.contains(place), "{place}: {out}");
    }
    assert!(out.contains(r#"core:IntellectualGenre="travel""#), "{out}");
    assert!(
        out.contains("<ext:PersonInImage>Ann</ext:PersonInImage>"),
        "{out}"
    );
}

#[test]
fn the_same_names_in_other_namespaces_stay() {
    let xmp = packet(
        r#"xmlns:exif="http://example.com/not-exif/" xmlns:my="http://example.com/my/""#,
        r#" exif:GPSLatitude="kept" my:City="kept too""#,
        "<my:Country>kept as well</my:Country>",
    );
    assert_eq!(
        strip(&xmp),
        xmp,
        "nothing to remove: byte for byte the same"
    );
}

#[test]
fn utf16_xmp_is_cleaned_and_written_as_utf8() {
    let xmp = packet(
        r#"xmlns:e="http://ns.adobe.com/exif/1.0/""#,
        r#" e:GPSLatitude="43,28.0468N""#,
        "",
    );
    let be: Vec<u8> = xmp.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let le: Vec<u8> = xmp.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for utf16 in [be, le] {
        let out = String::from_utf8(remove_xmp_location(&utf16).unwrap()).unwrap();
        assert!(!out.contains("GPS") && out.contains("NIKON"), "{out}");
    }
}

#[test]
fn stray_bytes_after_the_packet_trailer_are_left_out() {
    let xmp = packet("", "", "");
    let mut with_junk = xmp.clone().into_bytes();
    with_junk.extend(b"\xdd\xdd\xd1\x10\0");
    assert_eq!(strip(&String::from_utf8_lossy(&with_junk)), xmp);
    assert_eq!(remove_xmp_location(&with_junk).unwrap(), xmp.as_bytes());
}

#[test]
fn unreadable_xmp_is_refused() {
    for bad in [
        &b"\xff\xfe<x/>"[..],
        b"<photoshop:City xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\">Firenze",
        b"<a><b></a></b>",
        b"<x exif:GPSLatitude=\"43\"/>",
        b"<exif:GPSLatitude>43</exif:GPSLatitude>",
        b"<x a=\"1\" a=\"2\"/>",
        b"<!DOCTYPE x [<!ENTITY c \"Firenze\">]><x>&c;</x>",
        b"<x>&c;</x>",
        // Stray bytes are only tolerated after a complete packet.
        b"<x/>\xdd",
    ] {
        assert!(
            remove_xmp_location(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}
