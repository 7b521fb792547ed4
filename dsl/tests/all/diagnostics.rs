//! Line/column computation and rendering.

use pappus_dsl::{Diagnostic, Span};

#[test]
fn line_col_is_one_based_and_counts_chars() {
    let src = "ab\nçd é x\n";
    let d = Diagnostic::error(Span::new(src.find('x').unwrap(), src.len() - 1), "m");
    assert_eq!(d.line_col(src), (2, 6));
    assert_eq!(
        Diagnostic::error(Span::new(0, 0), "m").line_col(src),
        (1, 1)
    );
}

#[test]
fn out_of_range_and_mid_char_spans_do_not_panic() {
    let src = "é\nx";
    for (s, e) in [
        (1, 1),
        (1, 100),
        (100, 200),
        (3, 2),
        (usize::MAX, usize::MAX),
    ] {
        let d = Diagnostic::error(Span::new(s, e), "m");
        let _ = d.line_col(src);
        let _ = d.render("f.pap", src);
    }
    let _ = Diagnostic::error(Span::new(5, 9), "m").render("f.pap", "");
}

#[test]
fn render_shows_location_line_and_caret() {
    let src = "first\n  bad thing\nlast";
    let d = Diagnostic::error(Span::new(8, 11), "oops").with_note("a note");
    assert_eq!(
        d.render("f.pap", src),
        "error: oops\n --> f.pap:2:3\n  |\n2 |   bad thing\n  |   ^^^\n  = note: a note\n"
    );
    let w = Diagnostic::warning(Span::new(src.len(), src.len()), "at end");
    assert!(w.render("f.pap", src).contains("^\n"));
    assert!(w
        .render("f.pap", src)
        .starts_with("warning: at end\n --> f.pap:3:5"));
}

#[test]
fn multi_line_spans_underline_the_first_line() {
    let src = "abc\ndef";
    let d = Diagnostic::error(Span::new(1, 6), "m");
    assert!(d.render("f", src).contains("1 | abc\n  |  ^^\n"));
}
