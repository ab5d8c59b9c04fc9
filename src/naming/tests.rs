use super::*;

fn at(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
    DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    }
}

fn input(path: &str, number: usize) -> NameInput<'_> {
    NameInput {
        path,
        number,
        file_date: at(2020, 1, 2, 3, 4, 5),
        format: Format::Jpeg,
    }
}

#[test]
fn unix_times_map_to_the_utc_calendar_and_back() {
    for (seconds, date) in [
        (0, at(1970, 1, 1, 0, 0, 0)),
        (-1, at(1969, 12, 31, 23, 59, 59)),
        (951_825_600, at(2000, 2, 29, 12, 0, 0)),
        (1_721_000_709, at(2024, 7, 14, 23, 45, 9)),
    ] {
        assert_eq!(DateTime::from_unix_seconds(seconds), date);
        assert_eq!(date.unix_seconds(), seconds);
    }
}

#[test]
fn exif_dates_parse_and_blank_or_impossible_ones_do_not() {
    assert_eq!(
        DateTime::from_exif(b"2024:07:14 18:05:09\0"),
        Some(at(2024, 7, 14, 18, 5, 9))
    );
    for bad in [
        &b"    :  :     :  :  \0"[..],
        b"0000:00:00 00:00:00",
        b"2023:02:29 10:00:00",
        b"2024-07-14 18:05:09",
        b"2024:07:14 24:00:00",
        b"2024:07:14",
    ] {
        assert_eq!(DateTime::from_exif(bad), None, "{bad:?}");
    }
}

#[test]
fn dates_read_back_what_reports_write() {
    let date = at(2024, 7, 14, 18, 5, 9);
    assert_eq!(date.to_string(), "2024-07-14T18:05:09");
    assert_eq!("2024-07-14T18:05:09".parse::<DateTime>().unwrap(), date);
    assert!("2024:07:14 18:05:09".parse::<DateTime>().is_err());
}

#[test]
fn templates_that_leave_the_output_folder_or_name_nothing_are_refused() {
    for bad in [
        "",
        "/abs/{stem}.{ext}",
        "../{stem}.{ext}",
        "a/../../{stem}",
        "{stem}/",
        "{stem",
        "{colour}",
    ] {
        let error = bad.parse::<NameTemplate>().unwrap_err();
        assert_eq!(error.code(), "invalid-options", "{bad}");
    }
}

#[test]
fn names_keep_the_input_folder_and_fill_every_field() {
    let template: NameTemplate = "{datetime}_{n}-{stem}-{size}-{w}x{h}.{ext}"
        .parse()
        .unwrap();
    let taken = NameOutput {
        width: 2048,
        height: 1365,
        captured: Some(at(2024, 7, 14, 18, 5, 9)),
    };
    assert_eq!(
        template
            .render(&input("trip/day 1/IMG_0001.HEIC", 7), "2048", Some(&taken))
            .as_deref(),
        Some("trip/day 1/2024-07-14_18-05-09_0007-IMG_0001-2048-2048x1365.jpg")
    );
}

#[test]
fn a_photo_without_a_capture_date_is_named_by_its_file_date() {
    let template: NameTemplate = "{date}/{time}.{ext}".parse().unwrap();
    let undated = NameOutput {
        width: 1,
        height: 1,
        captured: None,
    };
    assert_eq!(
        template
            .render(&input("a.png", 1), "orig", Some(&undated))
            .as_deref(),
        Some("2020-01-02/03-04-05.jpg")
    );
}

#[test]
fn names_that_need_decoding_are_unknown_before_it() {
    let by_size: NameTemplate = "{stem}-{w}.{ext}".parse().unwrap();
    let by_date: NameTemplate = "{date}-{stem}.{ext}".parse().unwrap();
    let plain = NameTemplate::for_sizes(2);
    assert!(!by_size.known_before_decoding() && !by_date.known_before_decoding());
    assert_eq!(by_date.render(&input("a.jpg", 1), "2048", None), None);
    assert!(plain.known_before_decoding());
    assert_eq!(
        plain.render(&input("x/a.b.jpg", 1), "320", None).as_deref(),
        Some("x/a.b-320.jpg")
    );
}

#[test]
fn the_cli_policy_refuses_a_second_output_of_the_same_name() {
    let mut names = Names::new(Collision::Refuse);
    assert_eq!(names.claim("a.jpg".into()).unwrap(), "a.jpg");
    assert_eq!(
        names.claim("a.jpg".into()).unwrap_err().code(),
        "invalid-options"
    );
}

#[test]
fn the_page_policy_numbers_a_second_output_before_its_extension() {
    let mut names = Names::new(Collision::Number);
    let claimed: Vec<String> = ["d.v2/a.jpg", "d.v2/a.jpg", "d.v2/a.jpg", "d.v2/README"]
        .into_iter()
        .chain(["d.v2/README"])
        .map(|n| names.claim(n.into()).unwrap())
        .collect();
    assert_eq!(
        claimed,
        [
            "d.v2/a.jpg",
            "d.v2/a (2).jpg",
            "d.v2/a (3).jpg",
            "d.v2/README",
            "d.v2/README (2)"
        ]
    );
}
