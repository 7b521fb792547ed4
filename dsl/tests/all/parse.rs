//! Parser behaviour: spans, keywords, comments, error messages.

use pappus_dsl::ast::Item;
use pappus_dsl::{parse, JoinKind, Mode, Span};

fn composition(src: &str) -> pappus_dsl::ast::Composition {
    match parse(src).unwrap().items.pop() {
        Some(Item::Composition(c)) => c,
        other => panic!("not a composition: {other:?}"),
    }
}

#[test]
fn empty_and_comment_only_files() {
    assert!(parse("").unwrap().items.is_empty());
    assert!(parse("  # nothing\n\n#more").unwrap().items.is_empty());
}

#[test]
fn spans_point_at_the_source() {
    let src = "composition C (A) => (B) {\n  F (x = optional keyed A) => (B = y) by A inner A;\n}";
    let c = composition(src);
    let app = &c.body[0];
    assert_eq!(
        &src[app.span.start..app.span.end],
        "F (x = optional keyed A) => (B = y) by A inner A;"
    );
    assert_eq!(
        &src[app.inputs[0].span.start..app.inputs[0].span.end],
        "x = optional keyed A"
    );
    assert_eq!(
        &src[app.outputs[0].span.start..app.outputs[0].span.end],
        "B = y"
    );
    let join = app.join.as_ref().unwrap();
    assert_eq!(&src[join.span.start..join.span.end], "by A inner A");
    assert_eq!(c.span, Span::new(0, src.len()));
    assert!(app.inputs[0].optional);
    assert_eq!(app.inputs[0].mode, Mode::Keyed);
}

#[test]
fn keywords_are_whole_words() {
    let c = composition(
        "composition C (eachX) => (allY) { byF (inner_ = each eachX) => (allY = leftover); }",
    );
    let app = &c.body[0];
    assert_eq!(app.callee.name, "byF");
    assert_eq!(app.inputs[0].param.name, "inner_");
    assert_eq!(app.inputs[0].set.name, "eachX");
    assert_eq!(app.outputs[0].output.name, "leftover");
}

#[test]
fn catch_is_a_keyword_only_where_it_ends_an_application() {
    let src = "composition C (catch) => (Out, Failed) {\n  catch (catch = each catch) => (Out = catch) by catch inner catch catch Failed;\n}";
    let c = composition(src);
    let app = &c.body[0];
    assert_eq!(app.callee.name, "catch");
    assert_eq!(app.inputs[0].set.name, "catch");
    assert_eq!(app.outputs[0].output.name, "catch");
    let failed = app.catch.as_ref().expect("a catch clause");
    assert_eq!(failed.name, "Failed");
    assert_eq!(&src[failed.span.start..failed.span.end], "Failed");
    assert!(
        src[app.span.start..app.span.end].ends_with("catch Failed;"),
        "{src}"
    );
}

#[test]
fn comments_and_whitespace_anywhere() {
    let c = composition(
        "composition#c\nC(A)=>(B){#x\nF(#a\nx=all#b\nA)=>(B=y)by#z\nA inner B#q\n;#end\n}",
    );
    assert_eq!(c.body.len(), 1);
    assert_eq!(
        c.body[0].join.as_ref().unwrap().rest,
        vec![(
            JoinKind::Inner,
            c.body[0].join.as_ref().unwrap().rest[0].1.clone()
        )]
    );
}

#[test]
fn trailing_commas_are_accepted() {
    let c = composition("composition C (A,) => (B,) { F (x = all A,) => (B = y,); }");
    assert_eq!(c.inputs.len(), 1);
    assert_eq!(c.body[0].inputs.len(), 1);
}

#[test]
fn all_join_kinds_parse() {
    let c = composition(
        "composition C (A, B) => (D) { F (a = keyed A, b = keyed B) => (D = y) by A inner B left A right B outer A cross B; }",
    );
    let kinds: Vec<JoinKind> = c.body[0]
        .join
        .as_ref()
        .unwrap()
        .rest
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(
        kinds,
        [
            JoinKind::Inner,
            JoinKind::Left,
            JoinKind::Right,
            JoinKind::Outer,
            JoinKind::Cross
        ]
    );
}

#[test]
fn errors_say_what_was_expected_and_found() {
    let cases: &[(&str, &str)] = &[
        ("function", "expected a function name, found end of input"),
        ("function F x", "expected `(`, found `x`"),
        (
            "function all () => ();",
            "expected a function name, found keyword `all`",
        ),
        ("function F (x) => (y)", "expected `;`, found end of input"),
        (
            "function F (x y) => (z);",
            "expected `,` or `)` after a parameter name, found `y`",
        ),
        ("fn F", "expected `function` or `composition`, found `fn`"),
        (
            "composition C () => () { F (x = all A) => () by A; }",
            "expected a join (`inner`, `left`, `right`, `outer`, `cross`), found `;`",
        ),
        (
            "composition C () => () { F (x = full A) => (); }",
            "expected `optional`, `all`, `each`, `keyed` or `named`, found `full`",
        ),
        (
            "composition C () => () { F (x = all A) => () by A inner B full C; }",
            "expected `;`, `catch` or a join (`inner`, `left`, `right`, `outer`, `cross`), found `full`",
        ),
        (
            "composition C () => () { F (x => all A) => (); }",
            "expected `=`, found `=>`",
        ),
        (
            "composition C () => () {",
            "expected an application or `}`, found end of input",
        ),
        (
            "composition C () => () { F () => () }",
            "expected `;`, `by` or `catch`, found `}`",
        ),
        (
            "composition C () => () { F () => () catch X Y; }",
            "expected `;`, found `Y`",
        ),
    ];
    for (src, message) in cases {
        let errs = parse(src).expect_err(src);
        assert_eq!(errs[0].message, *message, "for {src:?}");
        assert!(errs[0].span.start <= src.len() && errs[0].span.end <= src.len());
    }
}

#[test]
fn recovery_reports_each_broken_application() {
    let src = "composition C () => () {\n F (;\n G ) ;\n H (x = all A) => ();\n I => ;\n}";
    let errs = parse(src).unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:#?}");
}

#[test]
fn error_count_is_bounded() {
    let src = format!("composition C () => () {{{}}}", "x;".repeat(10_000));
    let errs = parse(&src).unwrap_err();
    assert!(errs.len() <= 51, "{}", errs.len());
}
